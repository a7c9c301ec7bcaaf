// What the customer is told at each moment of a cancellation (R12): what was cancelled, why, what happens to
// their money and goods, and what they can do next. Mail (subject, plain text, HTML) and a short SMS, in
// zh-CN and en. The HTML part is the plain text set in paragraphs, so the two never say different things.
import type { Language } from '../../models/organisation.model';
import type { ReasonCode } from '../../workflows/cancellation.contract';
import { escapeHtml, formatMoney, renderTemplate, type TemplateVariables } from './render';

export const CUSTOMER_MOMENTS = ['received', 'rejected', 'withdrawn', 'completed'] as const;
export type CustomerMoment = (typeof CUSTOMER_MOMENTS)[number];

interface CustomerTemplate {
  subject: string;
  text: string;
  sms: string;
}

const signature = { 'zh-CN': 'cancelflow 客户服务', en: 'cancelflow customer service' } as const;

const customerTemplates: Record<CustomerMoment, Record<Language, CustomerTemplate>> = {
  received: {
    'zh-CN': {
      subject: '我们已收到订单 {{orderNumber}} 的取消申请',
      text: `{{customerName}}，您好：

我们已收到您取消订单 {{orderNumber}} 的申请，原因：{{reason}}。
申请取消的商品：
{{items}}

款项：取消完成后，已付款项将原路退回您的支付账户，届时我们会再通知您。
接下来：您无需做任何事，处理结果将另行通知；如想撤回申请，请尽快联系客服。

${signature['zh-CN']}`,
      sms: '【cancelflow】已收到订单{{orderNumber}}的取消申请，处理结果将另行通知。',
    },
    en: {
      subject: 'We received your request to cancel order {{orderNumber}}',
      text: `Dear {{customerName}},

we received your request to cancel order {{orderNumber}} because {{reason}}.
Items to cancel:
{{items}}

Your money: once the cancellation is done, what you paid goes back to your original payment method, and we will tell you.
What next: you need not do anything; we will tell you the outcome. To withdraw the request, contact customer service soon.

${signature.en}`,
      sms: 'cancelflow: we received your request to cancel order {{orderNumber}} and will tell you the outcome.',
    },
  },
  rejected: {
    'zh-CN': {
      subject: '订单 {{orderNumber}} 的取消申请未获批准',
      text: `{{customerName}}，您好：

很抱歉，您取消订单 {{orderNumber}} 的申请未获批准：{{refusal}}。

款项：您的付款不受影响，不会退款。
商品：订单照常处理和发货。
接下来：如仍希望取消，请联系客服，我们会与您一起想办法；收到商品后，也可按退货政策申请退货退款。

${signature['zh-CN']}`,
      sms: '【cancelflow】订单{{orderNumber}}的取消申请未获批准：{{refusal}}。订单照常发货，详询客服。',
    },
    en: {
      subject: 'Your request to cancel order {{orderNumber}} was not accepted',
      text: `Dear {{customerName}},

we are sorry: your request to cancel order {{orderNumber}} was not accepted: {{refusal}}.

Your money: your payment stands; nothing is refunded.
Your goods: the order goes ahead and will be delivered.
What next: if you still want to cancel, contact customer service and we will find a way with you; once the goods arrive you may also return them for a refund under our returns policy.

${signature.en}`,
      sms: 'cancelflow: your request to cancel order {{orderNumber}} was not accepted: {{refusal}}. The order goes ahead; customer service can help.',
    },
  },
  withdrawn: {
    'zh-CN': {
      subject: '订单 {{orderNumber}} 的取消申请已撤回',
      text: `{{customerName}}，您好：

您取消订单 {{orderNumber}} 的申请已撤回。

款项：您的付款不受影响。
商品：订单照常处理和发货。
接下来：如需再次取消，可随时重新申请。

${signature['zh-CN']}`,
      sms: '【cancelflow】订单{{orderNumber}}的取消申请已撤回，订单照常发货。',
    },
    en: {
      subject: 'Your request to cancel order {{orderNumber}} was withdrawn',
      text: `Dear {{customerName}},

your request to cancel order {{orderNumber}} was withdrawn.

Your money: your payment stands.
Your goods: the order goes ahead and will be delivered.
What next: you may ask to cancel again at any time.

${signature.en}`,
      sms: 'cancelflow: your request to cancel order {{orderNumber}} was withdrawn; the order goes ahead.',
    },
  },
  completed: {
    'zh-CN': {
      subject: '订单 {{orderNumber}} 已取消',
      text: `{{customerName}}，您好：

您的订单 {{orderNumber}} 已取消，原因：{{reason}}。
已取消的商品：
{{items}}

款项：{{money}}
商品：{{goods}}
接下来：如仍需要这些商品，欢迎随时重新下单；如对退款有疑问，请联系客服。

欢迎为本次取消服务打分（1–5 分）并留言：{{feedbackUrl}}（评价码 {{feedbackCode}}）

${signature['zh-CN']}`,
      sms: '【cancelflow】订单{{orderNumber}}已取消（{{reason}}）。{{moneyShort}}评价服务：{{feedbackUrl}}',
    },
    en: {
      subject: 'Your order {{orderNumber}} has been cancelled',
      text: `Dear {{customerName}},

your order {{orderNumber}} has been cancelled because {{reason}}.
Items cancelled:
{{items}}

Your money: {{money}}
Your goods: {{goods}}
What next: if you still want these goods, you are welcome to order them again at any time; for questions about the refund, contact customer service.

Please rate how we handled this cancellation (1 to 5) and tell us more: {{feedbackUrl}} (feedback code {{feedbackCode}})

${signature.en}`,
      sms: 'cancelflow: order {{orderNumber}} is cancelled ({{reason}}). {{moneyShort}} Rate us: {{feedbackUrl}}',
    },
  },
};

/** Paragraphs for the HTML part: the plain text, escaped, with the feedback address as a link. */
function htmlOf(text: string): string {
  return text
    .split('\n\n')
    .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>\n')}</p>`)
    .join('\n')
    .replace('{{feedbackUrl}}', '<a href="{{feedbackUrl}}">{{feedbackUrl}}</a>');
}

export interface CustomerMessage {
  subject: string;
  text: string;
  html: string;
  sms: string;
}

/** Renders the customer's message for a moment; throws naming any variable the template lacks. */
export function renderCustomerMessage(
  moment: CustomerMoment,
  language: Language,
  variables: TemplateVariables,
): CustomerMessage {
  const template = customerTemplates[moment][language];
  return renderTemplate(
    `customer-${moment}.${language}`,
    { ...template, html: htmlOf(template.text) },
    variables,
  );
}

// The variables that depend on the facts of a cancellation, worded for each language.

const reasonText: Record<Language, Record<ReasonCode, string>> = {
  'zh-CN': {
    customer_changed_mind: '您改变了主意',
    out_of_stock: '商品缺货',
    price_error: '价格有误',
    duplicate_order: '重复下单',
    suspected_fraud: '订单存在安全风险',
    address_problem: '收货地址有问题',
    delivery_delay: '配送延迟',
    other: '其他原因',
  },
  en: {
    customer_changed_mind: 'you changed your mind',
    out_of_stock: 'the goods are out of stock',
    price_error: 'the price was wrong',
    duplicate_order: 'the order was placed twice',
    suspected_fraud: 'the order raised a security concern',
    address_problem: 'there was a problem with the delivery address',
    delivery_delay: 'delivery was delayed',
    other: 'another reason',
  },
};

export function reasonWording(language: Language, reasonCode: ReasonCode): string {
  return reasonText[language][reasonCode];
}

export interface ItemLine {
  sku: string;
  name?: string;
  quantity: number;
}

/** One line per item; without lines, the whole order. */
export function itemsWording(language: Language, lines: ItemLine[] | undefined): string {
  if (!lines || lines.length === 0)
    return language === 'zh-CN' ? '- 订单中的全部商品' : '- every item of the order';
  return lines
    .map((line) => `- ${line.name ? `${line.name} (${line.sku})` : line.sku} × ${line.quantity}`)
    .join('\n');
}

/** What happens to the customer's money once the cancellation is done: the long and the SMS wording. */
export function refundWording(
  language: Language,
  refundedMinor: number,
  currency: string,
): { money: string; moneyShort: string } {
  if (refundedMinor <= 0) {
    return language === 'zh-CN'
      ? { money: '该订单没有需要退还的款项。', moneyShort: '无需退款。' }
      : { money: 'nothing you paid needs refunding.', moneyShort: 'Nothing to refund.' };
  }
  const amount = formatMoney(language, refundedMinor, currency);
  return language === 'zh-CN'
    ? {
        money: `已退款 ${amount}，将原路退回您的支付账户，通常 1–5 个工作日到账。`,
        moneyShort: `${amount}将原路退回。`,
      }
    : {
        money: `we have refunded ${amount} to your original payment method; it usually arrives within 1 to 5 working days.`,
        moneyShort: `${amount} is refunded to your payment method.`,
      };
}

/** What happens to the goods: nothing cancelled ships; with a partial cancellation, the rest does. */
export function goodsWording(language: Language, restOfOrderShips: boolean): string {
  if (language === 'zh-CN') {
    return `已取消的商品不会发货，为您预留的库存已释放。${restOfOrderShips ? '订单中其余商品照常发货。' : ''}`;
  }
  return `the cancelled items will not be shipped.${restOfOrderShips ? ' The rest of your order will be delivered as planned.' : ''}`;
}
