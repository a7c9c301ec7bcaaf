// The console's words and markup, without a server: every key in both catalogues with the same placeholders,
// every value the books keep has its words, a language is chosen as documented, and templates escape what they
// are given (the books and the requests are never trusted as markup).
import { ORDER_STATUSES, ORDER_LINE_STATUSES } from '../contracts/books.contract';
import {
  CONFIRMABLE_STAGES,
  NOTICE_MOMENTS,
  REASON_CODES,
  RESOLUTION_OPTIONS,
} from '../contracts/cancellation.contract';
import { CANCELLATION_OUTCOMES } from '../client/contract';
import { EVENT_DELIVERY_STATUSES } from '../contracts/cancellation-events.contract';
import { escapeHtml, html, join, jsonAttribute, trusted } from '../api/console/html';
import { CATALOGUES, formatMoney, languageOf, translator } from '../api/console/i18n';
import { cancelRequestOf, parseForm, safeNext } from '../api/console/console.plugin';
import { page } from '../api/console/pages/layout';
import type { FastifyRequest } from 'fastify';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

describe('the catalogues', () => {
  const [english, chinese] = [CATALOGUES.en, CATALOGUES['zh-CN']];

  test('every key is in both languages, none empty, with the same placeholders', () => {
    expect(Object.keys(chinese).sort()).toEqual(Object.keys(english).sort());
    for (const [key, text] of Object.entries(english)) {
      const other = chinese[key as keyof typeof chinese];
      expect([key, text.trim().length > 0, other.trim().length > 0]).toEqual([key, true, true]);
      expect([key, placeholders(other)]).toEqual([key, placeholders(text)]);
    }
  });

  test('the Chinese catalogue is Chinese: only names of languages and codes are left as in English', () => {
    const same = Object.keys(english).filter(
      (key) =>
        english[key as keyof typeof english] === chinese[key as keyof typeof chinese] &&
        !key.startsWith('lang.'),
    );
    expect(same).toEqual([]);
  });

  test.each([
    ['status', ORDER_STATUSES],
    ['lineStatus', ORDER_LINE_STATUSES],
    ['reason', REASON_CODES],
    ['stage', CONFIRMABLE_STAGES],
    ['moment', NOTICE_MOMENTS],
    ['option', RESOLUTION_OPTIONS],
    ['outcome', CANCELLATION_OUTCOMES],
    ['risk', ['low', 'medium', 'high']],
    ['deliveryStatus', EVENT_DELIVERY_STATUSES],
  ] as const)('every %s the books keep has its words', (prefix, values) => {
    for (const value of values) expect(Object.keys(english)).toContain(`${prefix}.${value}`);
  });

  test('placeholders are filled; a value without words is shown as it is', () => {
    const t = translator('zh-CN');
    expect(t('order.title', { number: 'SO-1' })).toBe('订单 SO-1');
    expect(t.of('state', 'completed')).toBe('已完成');
    expect(t.of('state', 'somethingNew')).toBe('somethingNew');
    expect(translator('en')('orders.results', { count: 3 })).toBe('3 orders found');
  });

  test('money is written in the currency’s own minor unit', () => {
    expect(formatMoney('en', 33600, 'CNY')).toBe('CN¥336.00');
    expect(formatMoney('zh-CN', 33600, 'CNY')).toBe('¥336.00');
    expect(formatMoney('en', 1200, 'JPY')).toBe('¥1,200');
  });
});

describe('which language a page is in', () => {
  const request = (cookies: Record<string, string>, acceptLanguage?: string) =>
    ({
      cookies,
      headers: acceptLanguage ? { 'accept-language': acceptLanguage } : {},
    }) as unknown as FastifyRequest;

  test('the choice made on this browser, else the person’s own, else the browser’s, else Chinese', () => {
    expect(languageOf(request({ cf_lang: 'en' }), 'zh-CN')).toBe('en');
    expect(languageOf(request({}, 'en-GB,en;q=0.9'), 'zh-CN')).toBe('zh-CN');
    expect(languageOf(request({}, 'en-GB,en;q=0.9'))).toBe('en');
    expect(languageOf(request({ cf_lang: 'fr' }, 'fr-FR'))).toBe('zh-CN');
    expect(languageOf(request({}))).toBe('zh-CN');
  });
});

describe('escaping', () => {
  const hostile = `<script>alert("x")</script>' onmouseover='steal()' \`&`;

  test('every interpolated text is escaped, in content and in attributes', () => {
    const markup = html`<p title="${hostile}">${hostile}</p>`.text;
    expect(markup).not.toContain('<script>');
    expect(markup).not.toMatch(/title="[^"]*"[^>]*onmouseover/);
    expect(markup).toBe(
      `<p title="${escapeHtml(hostile)}">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;steal()&#39; &#96;&amp;</p>`,
    );
  });

  test('markup made by html is kept; lists are escaped item by item; nothing, false and null vanish', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<div>${inner}${[hostile, inner]}${undefined}${null}${false}${0}</div>`.text).toBe(
      `<div><b>&lt;i&gt;</b>${escapeHtml(hostile)}<b>&lt;i&gt;</b>0</div>`,
    );
    expect(join(['<a>', trusted('<br>')], trusted(' | ')).text).toBe('&lt;a&gt; | <br>');
  });

  test('a look-alike object is not taken for markup', () => {
    const forged = { text: '<script>x</script>' } as unknown as string;
    expect(html`${forged}`.text).not.toContain('<script>');
  });

  test('JSON for htmx attributes is escaped for its quoted attribute', () => {
    const token = `a"b<c>'`;
    const attribute = jsonAttribute({ 'x-csrf-token': token }).text;
    expect(attribute).not.toMatch(/["<>']/);
    expect(
      JSON.parse(
        attribute
          .replace(/&quot;/g, '"')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&#39;/g, "'")
          .replace(/&amp;/g, '&'),
      ),
    ).toEqual({ 'x-csrf-token': token });
  });

  test('a whole page escapes the person’s name, and says its language', () => {
    const markup = page(
      {
        t: translator('en'),
        person: { personId: 'p1', name: hostile },
        here: '/console/orders?x="><script>',
      },
      hostile,
      html`<p>ok</p>`,
    ).text;
    expect(markup).toContain('<html lang="en">');
    expect(markup).not.toContain('<script>alert');
    expect(markup).not.toContain('"><script>');
  });
});

describe('forms and where they lead', () => {
  test('a cancel form becomes the API’s request: chosen lines with their quantities, or the whole order', () => {
    const chosen = parseForm(
      'scope=lines&line=L1&line=L3&quantity.L1=2&quantity.L2=5&quantity.L3=1&reasonCode=out_of_stock&note=+hi+&confirm=awaiting_shipment&confirm=bogus',
    );
    expect(cancelRequestOf('SO-1', chosen)).toEqual({
      scope: 'lines',
      request: {
        orderNumber: 'SO-1',
        lines: [
          { lineId: 'L1', quantity: 2 },
          { lineId: 'L3', quantity: 1 },
        ],
        reasonCode: 'out_of_stock',
        note: 'hi',
        confirm: ['awaiting_shipment'],
      },
    });
    expect(
      cancelRequestOf('SO-1', parseForm('scope=whole&line=L1&quantity.L1=2&reasonCode=other')).request,
    ).toEqual({
      orderNumber: 'SO-1',
      reasonCode: 'other',
      confirm: [],
    });
  });

  test('sign-in and the language switch lead back only to console pages of this site', () => {
    expect(safeNext('/console/orders/SO-1?x=1')).toBe('/console/orders/SO-1?x=1');
    expect(safeNext('/console')).toBe('/console');
    for (const elsewhere of [
      'https://evil.example/console',
      '//evil.example/console',
      '/v1/orders',
      '/console\\@evil',
      undefined,
    ]) {
      expect(safeNext(elsewhere)).toBe('/console/orders');
    }
  });
});
