// What the customer is told at each moment of a cancellation (R12): what was cancelled, why, what happens to
// their money and goods, and what they can do next. Mail (subject, plain text, HTML) and a short SMS, in
// zh-CN and en. The HTML part is the plain text set in paragraphs, so the two never say different things.
// When the goods already left (R9, R12), the customer is offered ways forward, each with what it means for
// their money, and told when the re-delivery they chose goes ahead.
import type { Language } from '../../contracts/books.contract';
import type {
  GoodsFate,
  ReasonCode,
  ResolutionOffer,
  ResolutionOption,
} from '../../contracts/cancellation.contract';
import {
  escapeHtml,
  formatDateTimeUtc,
  formatMoney,
  renderTemplate,
  resolveOptional,
  type TemplateVariables,
} from './render';

export const CUSTOMER_MOMENTS = [
  'received',
  'rejected',
  'withdrawn',
  'completed',
  'options_offered',
  'redelivery',
] as const;
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

[[随时查看取消进度：{{customerUrl}}

]]${signature['zh-CN']}`,
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

[[Follow your cancellation at any time: {{customerUrl}}

]]${signature.en}`,
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
接下来：{{next}}

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
What next: {{next}}

Please rate how we handled this cancellation (1 to 5) and tell us more: {{feedbackUrl}} (feedback code {{feedbackCode}})

${signature.en}`,
      sms: 'cancelflow: order {{orderNumber}} is cancelled ({{reason}}). {{moneyShort}} Rate us: {{feedbackUrl}}',
    },
  },
  options_offered: {
    'zh-CN': {
      subject: '订单 {{orderNumber}} 的取消：请在 {{decideBy}} 前选择处理方式',
      text: `{{customerName}}，您好：

我们已收到您取消订单 {{orderNumber}} 的申请（取消编号 {{cancellationId}}），原因：{{reason}}。
申请取消的商品：
{{items}}

商品：{{goodsWhere}}
因此请您从以下方式中选择一种：
{{options}}

请在 {{decideBy}} 前答复：直接回复本邮件写明所选方式的序号，或联系客服并提供取消编号 {{cancellationId}}。
[[也可以在您的取消页面直接选择：{{customerUrl}}
]]如届时未收到您的答复：{{ifNoAnswer}}

${signature['zh-CN']}`,
      sms: '【cancelflow】订单{{orderNumber}}的商品{{goodsShort}}。请于{{decideBy}}前选择：{{smsOptions}}。回复邮件或联系客服（取消编号{{cancellationId}}）；逾期按「{{defaultLabel}}」处理。[[在线选择：{{customerUrl}}]]',
    },
    en: {
      subject: 'Cancelling order {{orderNumber}}: please choose how to go on by {{decideBy}}',
      text: `Dear {{customerName}},

we received your request to cancel order {{orderNumber}} (cancellation {{cancellationId}}) because {{reason}}.
Items to cancel:
{{items}}

Your goods: {{goodsWhere}}
So please choose one of these:
{{options}}

Please answer by {{decideBy}}: reply to this mail with the number of your choice, or contact customer service quoting cancellation {{cancellationId}}.
[[Or choose on your cancellation's page: {{customerUrl}}
]]If we have no answer by then: {{ifNoAnswer}}

${signature.en}`,
      sms: 'cancelflow: the goods of order {{orderNumber}} {{goodsShort}}. Choose by {{decideBy}}: {{smsOptions}}. Reply to our mail or call customer service (cancellation {{cancellationId}}); without an answer: {{defaultLabel}}.[[ Choose online: {{customerUrl}}]]',
    },
  },
  redelivery: {
    'zh-CN': {
      subject: '订单 {{orderNumber}} 将重新为您配送',
      text: `{{customerName}}，您好：

订单 {{orderNumber}} 将按「重新配送」处理：订单继续有效，取消申请（编号 {{cancellationId}}）到此结束。
相关商品：
{{items}}

款项：您的付款不变，不会退款。
商品：我们将重新为您配送这些商品，请留意物流信息。
接下来：您无需做任何事；如收货地址有变，请尽快联系客服。

${signature['zh-CN']}`,
      sms: '【cancelflow】订单{{orderNumber}}将重新为您配送，订单继续有效，付款不变、不退款。',
    },
    en: {
      subject: 'Order {{orderNumber}} will be delivered to you again',
      text: `Dear {{customerName}},

order {{orderNumber}} goes ahead with re-delivery: the order stands, and cancellation {{cancellationId}} ends here.
Items concerned:
{{items}}

Your money: your payment stands; nothing is refunded.
Your goods: we will deliver them to you again; watch for the tracking details.
What next: you need not do anything; if your delivery address changed, contact customer service soon.

${signature.en}`,
      sms: 'cancelflow: order {{orderNumber}} will be delivered to you again; the order stands and nothing is refunded.',
    },
  },
};

/** Paragraphs for the HTML part: the plain text, escaped, with the feedback and customer's addresses as links. */
function htmlOf(text: string): string {
  return text
    .split('\n\n')
    .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>\n')}</p>`)
    .join('\n')
    .replace('{{feedbackUrl}}', '<a href="{{feedbackUrl}}">{{feedbackUrl}}</a>')
    .replace('{{customerUrl}}', '<a href="{{customerUrl}}">{{customerUrl}}</a>');
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
  const written = customerTemplates[moment][language];
  // What the message may leave out (its `[[ … ]]` segments) is settled first, so the HTML says what the text says.
  const template = {
    subject: resolveOptional(written.subject, variables),
    text: resolveOptional(written.text, variables),
    sms: resolveOptional(written.sms, variables),
  };
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
/** An amount of money gone back, in the currency it went back in. */
export interface RefundedAmount {
  amountMinor: number;
  currency: string;
}

/** What was refunded: one amount per currency the customer paid in (R11: each payment's own). */
export function refundWording(
  language: Language,
  refunded: RefundedAmount[],
): { money: string; moneyShort: string } {
  const amounts = refunded.filter((part) => part.amountMinor > 0);
  if (amounts.length === 0) {
    return language === 'zh-CN'
      ? { money: '该订单没有需要退还的款项。', moneyShort: '无需退款。' }
      : { money: 'nothing you paid needs refunding.', moneyShort: 'Nothing to refund.' };
  }
  const formatted = amounts.map((part) => formatMoney(language, part.amountMinor, part.currency));
  const amount = language === 'zh-CN' ? formatted.join('和') : formatted.join(' and ');
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

/** What happens to the goods not shipped: nothing cancelled ships; with a partial cancellation, the rest does. */
export function goodsWording(language: Language, restOfOrderShips: boolean): string {
  if (language === 'zh-CN') {
    return `已取消的商品不会发货，为您预留的库存已释放。${restOfOrderShips ? '订单中其余商品照常发货。' : ''}`;
  }
  return `the cancelled items will not be shipped.${restOfOrderShips ? ' The rest of your order will be delivered as planned.' : ''}`;
}

const nextStep: Record<Language, { reorder: string; refundQuestions: string }> = {
  'zh-CN': {
    reorder: '如仍需要这些商品，欢迎随时重新下单；如对退款有疑问，请联系客服。',
    refundQuestions: '如对退款有疑问，请联系客服。',
  },
  en: {
    reorder:
      'if you still want these goods, you are welcome to order them again at any time; for questions about the refund, contact customer service.',
    refundQuestions: 'for questions about the refund, contact customer service.',
  },
};

/**
 * What became of the cancelled goods, and what the customer may do next: not shipped (released), back at our
 * warehouse (returned), or kept by the customer with a deduction from the refund (kept; its amount when known).
 */
export function goodsFateWording(
  language: Language,
  fate: GoodsFate,
  facts: { restOfOrderShips: boolean; currency: string; deductionMinor?: number },
): { goods: string; next: string } {
  const zh = language === 'zh-CN';
  if (fate === 'released') {
    return { goods: goodsWording(language, facts.restOfOrderShips), next: nextStep[language].reorder };
  }
  if (fate === 'returned') {
    return {
      goods: zh ? '商品已退回我们的仓库。' : 'the goods have come back to our warehouse.',
      next: nextStep[language].reorder,
    };
  }
  const { deductionMinor } = facts;
  let goods: string;
  if (deductionMinor === undefined) {
    goods = zh
      ? '商品由您保留；按约定，退款中扣除了相应金额。'
      : 'you keep the goods; as agreed, a deduction was kept back from the refund.';
  } else if (deductionMinor === 0) {
    goods = zh
      ? '商品由您保留，退款没有扣除任何金额。'
      : 'you keep the goods, and nothing was kept back from the refund.';
  } else {
    const deduction = formatMoney(language, deductionMinor, facts.currency);
    goods = zh
      ? `商品由您保留；按约定，退款中扣除了 ${deduction}。`
      : `you keep the goods; as agreed, ${deduction} was kept back from the refund.`;
  }
  return { goods, next: nextStep[language].refundQuestions };
}

/** Where the goods of a cancellation that could not stop them are, as far as the carrier's parcels say. */
export type GoodsWhereabouts = 'delivered' | 'partly_delivered' | 'on_the_way';

/** The long (mail) and short (SMS) wording of where the goods are. */
export function goodsWhereWording(
  language: Language,
  whereabouts: GoodsWhereabouts,
): { goodsWhere: string; goodsShort: string } {
  const wording: Record<Language, Record<GoodsWhereabouts, { goodsWhere: string; goodsShort: string }>> = {
    'zh-CN': {
      delivered: { goodsWhere: '商品已送达，无法再停止配送。', goodsShort: '已送达' },
      partly_delivered: {
        goodsWhere: '部分商品已送达，其余已在途中，无法拦截。',
        goodsShort: '部分已送达，其余无法拦截',
      },
      on_the_way: { goodsWhere: '商品已离开我们的仓库，在途中无法拦截。', goodsShort: '已发出，无法拦截' },
    },
    en: {
      delivered: {
        goodsWhere: 'they have already been delivered to you.',
        goodsShort: 'were delivered',
      },
      partly_delivered: {
        goodsWhere:
          'some have been delivered to you, and the rest are on their way and could not be stopped.',
        goodsShort: 'were partly delivered and could not be stopped',
      },
      on_the_way: {
        goodsWhere: 'they had already left our warehouse and could not be stopped on their way to you.',
        goodsShort: 'could not be stopped',
      },
    },
  };
  return wording[language][whereabouts];
}

interface OptionWording {
  label: string;
  /** What choosing it means, for the mail. */
  detail: string;
  /** The same in a few words, for the SMS and the default. */
  short: string;
}

/** Each option in the customer's words, with what it means for their money. */
function optionWording(
  language: Language,
  option: ResolutionOption,
  offer: ResolutionOffer,
  currency: string,
  returnAddress: string | undefined,
): OptionWording {
  const refundable = formatMoney(language, offer.refundableMinor, currency);
  const deduction = formatMoney(language, offer.deductionMinor, currency);
  const net = formatMoney(language, offer.refundableMinor - offer.deductionMinor, currency);
  const wording: Record<Language, Record<ResolutionOption, OptionWording>> = {
    'zh-CN': {
      return: {
        label: '退货退款',
        detail: `退货退款：请将商品寄回我们的仓库（${returnAddress ? `寄至：${returnAddress}` : '联系客服获取退货地址'}，并在包裹上注明取消编号）；仓库收到后，全额退款 ${refundable}，原路退回您的支付账户。`,
        short: `寄回商品，到仓后全额退款${refundable}`,
      },
      redelivery: {
        label: '重新配送',
        detail: '重新配送：订单继续有效，我们重新为您配送商品；付款不变，不退款。',
        short: '订单继续，不退款',
      },
      refund_without_return: {
        label: '不退货退款',
        detail: `不退货退款：商品由您保留，我们退还 ${net}（${refundable} 扣除 ${deduction}）。`,
        short: `保留商品，退款${net}`,
      },
    },
    en: {
      return: {
        label: 'Return for a refund',
        detail: `Return for a refund: send the goods back to our warehouse (${returnAddress ? `to: ${returnAddress}` : 'customer service gives you the return address'}; write the cancellation number on the parcel). Once they arrive, we refund the full ${refundable} to your original payment method.`,
        short: `send the goods back for a full refund of ${refundable}`,
      },
      redelivery: {
        label: 'Re-delivery',
        detail:
          'Re-delivery: the order goes ahead and we deliver the goods to you again; your payment stands and nothing is refunded.',
        short: 'the order goes ahead, no refund',
      },
      refund_without_return: {
        label: 'Refund without return',
        detail: `Refund without return: keep the goods and get ${net} back (${refundable} less a deduction of ${deduction} that we keep).`,
        short: `keep the goods, ${net} refunded`,
      },
    },
  };
  return wording[language][option];
}

/**
 * The offered options only, numbered so the customer can answer with a number; the deadline in UTC; and
 * what happens without an answer.
 */
export function offerWording(
  language: Language,
  offer: ResolutionOffer,
  currency: string,
  /** Where returned goods go, when the books know it; otherwise customer service gives it. */
  returnAddress?: string,
): { options: string; smsOptions: string; decideBy: string; ifNoAnswer: string; defaultLabel: string } {
  const offered = offer.options.map((option) =>
    optionWording(language, option, offer, currency, returnAddress),
  );
  const fallback = optionWording(language, offer.defaultOption, offer, currency, returnAddress);
  return {
    options: offered.map((option, index) => `${index + 1}. ${option.detail}`).join('\n'),
    smsOptions: offered
      .map((option, index) =>
        language === 'zh-CN'
          ? `${index + 1}.${option.label}（${option.short}）`
          : `${index + 1}. ${option.label} (${option.short})`,
      )
      .join(language === 'zh-CN' ? ' ' : '; '),
    decideBy: formatDateTimeUtc(language, offer.decideBy),
    ifNoAnswer:
      language === 'zh-CN'
        ? `我们将按「${fallback.label}」处理：${fallback.short}。`
        : `we will go ahead with "${fallback.label}": ${fallback.short}.`,
    defaultLabel: fallback.label,
  };
}
