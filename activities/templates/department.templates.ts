// What each department is told about a cancellation (R6, R24), in both languages: a department's members
// read different ones. Sales sees everything; finance the refunds and their vouchers; purchasing the purchase
// orders reduced (or not) for the cancelled lines; logistics the stock released or returned and the
// shipments. When goods already left (R9, R12): the recall asked of the carrier, the options put to the
// customer, goods overdue back, and a re-delivery the customer chose.
import type { Department } from '../../contracts/cancellation.contract';
import type { Language } from '../../contracts/books.contract';
import { LANGUAGES } from '../../contracts/books.contract';
import {
  NOTICE_MOMENTS,
  type NoticeMoment,
  type ResolutionOffer,
  type ResolutionOption,
} from '../../contracts/cancellation.contract';
import { escapeHtml, formatDateTimeUtc, formatMoney, renderTemplate, type TemplateVariables } from './render';
import { itemsWording, type ItemLine } from './customer.templates';

/** Departments hear of every moment a cancellation tells people of. */
export const DEPARTMENT_MOMENTS = NOTICE_MOMENTS;
export type DepartmentMoment = NoticeMoment;

const departmentTemplates: Record<DepartmentMoment, Record<Language, { title: string; body: string }>> = {
  received: {
    'zh-CN': {
      title: '订单 {{orderNumber}} 申请取消',
      body: '订单 {{orderNumber}} 的取消申请 {{cancellationId}} 已提交，正在处理。原因：{{reason}}。\n\n{{details}}',
    },
    en: {
      title: 'Cancellation requested for order {{orderNumber}}',
      body: 'Cancellation {{cancellationId}} of order {{orderNumber}} was requested and is being handled. Reason: {{reason}}.\n\n{{details}}',
    },
  },
  approved: {
    'zh-CN': {
      title: '订单 {{orderNumber}} 的取消已批准',
      body: '订单 {{orderNumber}} 的取消申请 {{cancellationId}} 已获批准，接下来释放库存并退款。原因：{{reason}}。\n\n{{details}}',
    },
    en: {
      title: 'Cancellation of order {{orderNumber}} approved',
      body: 'Cancellation {{cancellationId}} of order {{orderNumber}} was approved; stock and money follow. Reason: {{reason}}.\n\n{{details}}',
    },
  },
  rejected: {
    'zh-CN': {
      title: '订单 {{orderNumber}} 的取消未获批准',
      body: '订单 {{orderNumber}} 的取消申请 {{cancellationId}} 未获批准：{{refusal}}。订单照常处理。\n\n{{details}}',
    },
    en: {
      title: 'Cancellation of order {{orderNumber}} rejected',
      body: 'Cancellation {{cancellationId}} of order {{orderNumber}} was not accepted: {{refusal}}. The order goes ahead.\n\n{{details}}',
    },
  },
  withdrawn: {
    'zh-CN': {
      title: '订单 {{orderNumber}} 的取消申请已撤回',
      body: '订单 {{orderNumber}} 的取消申请 {{cancellationId}} 已由申请人撤回。订单照常处理。\n\n{{details}}',
    },
    en: {
      title: 'Cancellation of order {{orderNumber}} withdrawn',
      body: 'Cancellation {{cancellationId}} of order {{orderNumber}} was withdrawn by the requester. The order goes ahead.\n\n{{details}}',
    },
  },
  completed: {
    'zh-CN': {
      title: '订单 {{orderNumber}} 已取消',
      body: '订单 {{orderNumber}} 已按取消申请 {{cancellationId}} 取消。原因：{{reason}}。\n\n{{details}}',
    },
    en: {
      title: 'Order {{orderNumber}} cancelled',
      body: 'Order {{orderNumber}} was cancelled by cancellation {{cancellationId}}. Reason: {{reason}}.\n\n{{details}}',
    },
  },
  recall_requested: {
    'zh-CN': {
      title: '订单 {{orderNumber}}：已请承运商拦截包裹',
      body: '为执行取消申请 {{cancellationId}}，已请承运商拦截（召回）订单 {{orderNumber}} 的包裹。原因：{{reason}}。\n\n{{details}}',
    },
    en: {
      title: 'Order {{orderNumber}}: carrier asked to stop the parcels',
      body: 'For cancellation {{cancellationId}}, the carrier was asked to stop (recall) the parcels of order {{orderNumber}}. Reason: {{reason}}.\n\n{{details}}',
    },
  },
  options_offered: {
    'zh-CN': {
      title: '订单 {{orderNumber}}：已请客户选择处理方式',
      body: '订单 {{orderNumber}} 的商品已发出且未能拦截（或已送达），已就取消申请 {{cancellationId}} 请客户选择处理方式。原因：{{reason}}。\n\n{{offer}}\n\n{{details}}',
    },
    en: {
      title: 'Order {{orderNumber}}: customer asked to choose a way forward',
      body: 'The goods of order {{orderNumber}} had left and could not be stopped (or were delivered), so the customer was asked to choose how cancellation {{cancellationId}} goes on. Reason: {{reason}}.\n\n{{offer}}\n\n{{details}}',
    },
  },
  return_overdue: {
    'zh-CN': {
      title: '订单 {{orderNumber}}：退回的商品逾期未到',
      body: '取消申请 {{cancellationId}} 中应退回仓库的订单 {{orderNumber}} 商品已逾期仍未到。原因：{{reason}}。\n\n{{details}}',
    },
    en: {
      title: 'Order {{orderNumber}}: returned goods overdue',
      body: 'The goods of order {{orderNumber}} expected back at the warehouse for cancellation {{cancellationId}} are overdue. Reason: {{reason}}.\n\n{{details}}',
    },
  },
  redelivery: {
    'zh-CN': {
      title: '订单 {{orderNumber}}：客户选择重新配送',
      body: '订单 {{orderNumber}} 继续有效：取消申请 {{cancellationId}} 以重新配送结束，客户保留订单。原因：{{reason}}。\n\n{{details}}',
    },
    en: {
      title: 'Order {{orderNumber}}: customer chose re-delivery',
      body: 'Order {{orderNumber}} goes ahead: cancellation {{cancellationId}} ends in re-delivery, and the customer keeps the order. Reason: {{reason}}.\n\n{{details}}',
    },
  },
};

export interface DepartmentMessage {
  /** For each member's message centre, in their language. */
  content: Record<Language, { title: string; body: string }>;
  /** For the department's mailbox: both languages in one mail. */
  email: { subject: string; text: string; html: string };
}

/** Renders a department's message in both languages; throws naming any variable a template lacks. */
export function renderDepartmentMessage(
  moment: DepartmentMoment,
  department: Department,
  variables: Record<Language, TemplateVariables>,
): DepartmentMessage {
  const [zh, en] = LANGUAGES.map((language) =>
    renderTemplate(
      `department-${department}-${moment}.${language}`,
      departmentTemplates[moment][language],
      variables[language],
    ),
  ) as [{ title: string; body: string }, { title: string; body: string }];
  const text = `${zh.body}\n\n— English —\n\n${en.body}`;
  return {
    content: { 'zh-CN': zh, en },
    email: {
      subject: `${zh.title} / ${en.title}`,
      text,
      html: text
        .split('\n\n')
        .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, '<br>\n')}</p>`)
        .join('\n'),
    },
  };
}

// The facts each department is told, read from the books by the activity, worded here.

export interface DepartmentFacts {
  lines: ItemLine[];
  refunds: {
    paymentId: string;
    amountMinor: number;
    currency: string;
    status: string;
    providerRefundId?: string | null;
    failure?: string | null;
  }[];
  vouchers: {
    idempotencyKey: string;
    currency: string;
    lines: { account: string; debitMinor: number; creditMinor: number }[];
  }[];
  purchaseReductions: { poNumber: string; lineId: string; quantity: number; supplierMustBeTold: boolean }[];
  purchaseRefusals: { poNumber: string; lineId: string; quantity: number; reason: string }[];
  stockReleases: { sku: string; warehouse: string; quantity: number }[];
  /** Shipped units taken back into a warehouse under this cancellation's keys. */
  stockReturns: { sku: string; warehouse: string; quantity: number; shipmentId: string }[];
  shipments: { shipmentId: string; carrier: string; trackingNumber?: string | null; status: string }[];
  /**
   * The parcels that left the warehouse with the cancelled lines (all of the order's when the lines are not
   * known), with how many of those lines' units came back so far.
   */
  parcels: {
    shipmentId: string;
    carrier: string;
    trackingNumber?: string | null;
    status: string;
    shippedQuantity: number;
    returnedQuantity: number;
  }[];
}

type Wording = (language: Language, facts: DepartmentFacts) => string;

const zh = (language: Language) => language === 'zh-CN';

const refundsWording: Wording = (language, { refunds, vouchers }) => {
  if (refunds.length === 0) return zh(language) ? '本次取消没有退款。' : 'No refund in this cancellation.';
  const lines = refunds.map((refund) => {
    const amount = formatMoney(language, refund.amountMinor, refund.currency);
    const reference = refund.providerRefundId ?? '—';
    const failure = refund.failure ? ` (${refund.failure})` : '';
    return zh(language)
      ? `- 退款 ${amount}，支付 ${refund.paymentId}，网关退款号 ${reference}，状态 ${refund.status}${failure}`
      : `- refund of ${amount} on payment ${refund.paymentId}, gateway refund ${reference}, ${refund.status}${failure}`;
  });
  const voucherLines = vouchers.map((voucher) => {
    const entries = voucher.lines
      .map((line) =>
        line.debitMinor > 0
          ? `${zh(language) ? '借' : 'Dr'} ${line.account} ${formatMoney(language, line.debitMinor, voucher.currency)}`
          : `${zh(language) ? '贷' : 'Cr'} ${line.account} ${formatMoney(language, line.creditMinor, voucher.currency)}`,
      )
      .join('; ');
    return `- ${zh(language) ? '凭证' : 'voucher'} ${voucher.idempotencyKey}: ${entries}`;
  });
  return [zh(language) ? '退款：' : 'Refunds:', ...lines, ...voucherLines].join('\n');
};

const purchasingWording: Wording = (language, { purchaseReductions, purchaseRefusals }) => {
  if (purchaseReductions.length === 0 && purchaseRefusals.length === 0) {
    return zh(language)
      ? '没有为已取消商品下的采购单需要调整。'
      : 'No purchase order was raised for the cancelled lines.';
  }
  const reduced = purchaseReductions.map((change) =>
    zh(language)
      ? `- 采购单 ${change.poNumber} 行 ${change.lineId}：减少 ${change.quantity} 件${change.supplierMustBeTold ? '（需通知供应商）' : ''}`
      : `- purchase order ${change.poNumber} line ${change.lineId}: ${change.quantity} fewer${change.supplierMustBeTold ? ' (tell the supplier)' : ''}`,
  );
  const kept = purchaseRefusals.map((refusal) =>
    zh(language)
      ? `- 采购单 ${refusal.poNumber} 行 ${refusal.lineId}：${refusal.quantity} 件无法减少（${refusal.reason}）`
      : `- purchase order ${refusal.poNumber} line ${refusal.lineId}: ${refusal.quantity} stay on order (${refusal.reason})`,
  );
  return [zh(language) ? '采购单：' : 'Purchase orders:', ...reduced, ...kept].join('\n');
};

const stockWording: Wording = (language, { stockReleases, stockReturns, shipments }) => {
  const released = stockReleases.map((release) =>
    zh(language)
      ? `- ${release.sku} @ ${release.warehouse}：释放预留 ${release.quantity} 件`
      : `- ${release.sku} at ${release.warehouse}: ${release.quantity} reserved released`,
  );
  const returned = stockReturns.map((back) =>
    zh(language)
      ? `- ${back.sku} @ ${back.warehouse}：退货入库 ${back.quantity} 件（运单 ${back.shipmentId}）`
      : `- ${back.sku} at ${back.warehouse}: ${back.quantity} returned to stock (shipment ${back.shipmentId})`,
  );
  const parcels = shipments.map((shipment) =>
    zh(language)
      ? `- 运单 ${shipment.shipmentId}（${shipment.carrier}${shipment.trackingNumber ? ` ${shipment.trackingNumber}` : ''}）：${shipment.status}`
      : `- shipment ${shipment.shipmentId} (${shipment.carrier}${shipment.trackingNumber ? ` ${shipment.trackingNumber}` : ''}): ${shipment.status}`,
  );
  if (released.length === 0 && returned.length === 0 && parcels.length === 0) {
    return zh(language) ? '没有库存或运单变动。' : 'No stock or shipment changed.';
  }
  return [zh(language) ? '库存与物流：' : 'Stock and shipments:', ...released, ...returned, ...parcels].join(
    '\n',
  );
};

/** The parcels concerned, with carrier and tracking number, and how much of them is back. */
const parcelsWording: Wording = (language, { parcels }) => {
  if (parcels.length === 0) {
    return zh(language)
      ? '没有找到载有这些商品的已发出包裹。'
      : 'No parcel that left with these goods was found.';
  }
  const lines = parcels.map((parcel) => {
    const tracking = parcel.trackingNumber ?? (zh(language) ? '无运单号' : 'no tracking number');
    return zh(language)
      ? `- 运单 ${parcel.shipmentId}（${parcel.carrier}，运单号 ${tracking}）：${parcel.status}，已退回 ${parcel.returnedQuantity}/${parcel.shippedQuantity} 件`
      : `- shipment ${parcel.shipmentId} (${parcel.carrier}, tracking ${tracking}): ${parcel.status}, ${parcel.returnedQuantity} of ${parcel.shippedQuantity} back`;
  });
  return [zh(language) ? '包裹：' : 'Parcels:', ...lines].join('\n');
};

const itemsBlock: Wording = (language, { lines }) =>
  `${zh(language) ? '取消的商品：' : 'Cancelled items:'}\n${itemsWording(language, lines)}`;

const holdGoods: Wording = (language) =>
  zh(language) ? '请暂缓发货这些商品，等待取消结果。' : 'Hold these goods until the cancellation is decided.';
const shipAsPlanned: Wording = (language) => (zh(language) ? '请照常发货。' : 'Ship the order as planned.');
const watchForReturn: Wording = (language) =>
  zh(language)
    ? '承运商拦截成功后，包裹将退回仓库：请留意，到货后确认入库。'
    : 'Once the carrier stops them, the parcels come back: watch for them and confirm their receipt when they arrive.';
const chaseReturn: Wording = (language) =>
  zh(language)
    ? '到货后请确认入库；如仍未到，请向承运商查询或联系客户催促寄回。'
    : 'Confirm their receipt when they arrive; until then, chase the carrier or ask the customer to send them.';
const deliverAgain: Wording = (language) =>
  zh(language)
    ? '请重新配送这些包裹中的商品，并更新运单。'
    : 'Deliver the goods of these parcels again and update the shipments.';
const noRefund: Wording = (language) =>
  zh(language) ? '不退款：客户的付款保持不变。' : 'No refund: the customer’s payment stands.';
const refundComing: Wording = (language) =>
  zh(language)
    ? '退款将通过支付网关原路退回，完成后会再通知财务。'
    : 'The refund goes back through the payment gateway; finance hears again once it is done.';

const detailsFor: Record<Department, Partial<Record<DepartmentMoment, Wording[]>>> = {
  sales: {
    received: [itemsBlock],
    approved: [itemsBlock],
    rejected: [itemsBlock],
    withdrawn: [itemsBlock],
    completed: [itemsBlock, refundsWording, purchasingWording, stockWording],
    recall_requested: [itemsBlock, parcelsWording],
    options_offered: [itemsBlock, parcelsWording],
    return_overdue: [itemsBlock, parcelsWording, chaseReturn],
    redelivery: [itemsBlock, parcelsWording, noRefund],
  },
  finance: {
    approved: [itemsBlock, refundComing],
    completed: [refundsWording],
    redelivery: [itemsBlock, noRefund],
  },
  purchasing: { completed: [purchasingWording] },
  logistics: {
    received: [itemsBlock, holdGoods],
    rejected: [itemsBlock, shipAsPlanned],
    withdrawn: [itemsBlock, shipAsPlanned],
    completed: [stockWording],
    recall_requested: [itemsBlock, parcelsWording, watchForReturn],
    options_offered: [itemsBlock, parcelsWording],
    return_overdue: [itemsBlock, parcelsWording, chaseReturn],
    redelivery: [itemsBlock, parcelsWording, deliverAgain],
  },
};

/** The department's part of the message; what it has no wording for at that moment, it gets the items. */
export function departmentDetails(
  department: Department,
  moment: DepartmentMoment,
  language: Language,
  facts: DepartmentFacts,
): string {
  const wordings = detailsFor[department][moment] ?? [itemsBlock];
  return wordings.map((wording) => wording(language, facts)).join('\n\n');
}

const optionLabel: Record<Language, Record<ResolutionOption, string>> = {
  'zh-CN': { return: '退货退款', redelivery: '重新配送', refund_without_return: '不退货退款' },
  en: {
    return: 'return for a refund',
    redelivery: 're-delivery',
    refund_without_return: 'refund without return',
  },
};

/** What the customer was offered, with each option's money, the deadline (UTC) and the default. */
export function departmentOfferWording(language: Language, offer: ResolutionOffer, currency: string): string {
  const money = (minor: number) => formatMoney(language, minor, currency);
  const consequence: Record<ResolutionOption, string> = zh(language)
    ? {
        return: `客户寄回商品，到仓后全额退款 ${money(offer.refundableMinor)}`,
        redelivery: '订单继续，重新配送，不退款',
        refund_without_return: `客户保留商品，退款 ${money(offer.refundableMinor - offer.deductionMinor)}（扣除 ${money(offer.deductionMinor)}）`,
      }
    : {
        return: `the customer sends the goods back; full refund of ${money(offer.refundableMinor)} once they arrive`,
        redelivery: 'the order goes ahead and is delivered again; no refund',
        refund_without_return: `the customer keeps the goods; refund of ${money(offer.refundableMinor - offer.deductionMinor)} (${money(offer.deductionMinor)} deducted)`,
      };
  const options = offer.options.map(
    (option) => `- ${optionLabel[language][option]}${zh(language) ? '：' : ': '}${consequence[option]}`,
  );
  const decideBy = formatDateTimeUtc(language, offer.decideBy);
  const fallback = optionLabel[language][offer.defaultOption];
  return [
    zh(language) ? '客户可选择：' : 'The customer may choose:',
    ...options,
    zh(language)
      ? `答复期限：${decideBy}；逾期未答复按「${fallback}」处理。`
      : `Answer due by ${decideBy}; without an answer: ${fallback}.`,
  ].join('\n');
}
