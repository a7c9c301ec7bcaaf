// What each department is told about a cancellation (R6, R24), in both languages: a department's members
// read different ones. Sales sees everything; finance the refunds and their vouchers; purchasing the purchase
// orders reduced (or not) for the cancelled lines; logistics the stock released and the shipments.
import type { DepartmentCode, Language } from '../../models/organisation.model';
import { LANGUAGES } from '../../models/organisation.model';
import { escapeHtml, formatMoney, renderTemplate, type TemplateVariables } from './render';
import { itemsWording, type ItemLine } from './customer.templates';

export const DEPARTMENT_MOMENTS = ['received', 'approved', 'rejected', 'withdrawn', 'completed'] as const;
export type DepartmentMoment = (typeof DEPARTMENT_MOMENTS)[number];

/** Who hears of each moment unless the caller names the departments. */
export const DEPARTMENTS_BY_MOMENT: Record<DepartmentMoment, readonly DepartmentCode[]> = {
  // Sales follows every request; logistics must hold the goods while it is decided.
  received: ['sales', 'logistics'],
  // Finance prepares the refund.
  approved: ['sales', 'finance'],
  // Logistics may ship again.
  rejected: ['sales', 'logistics'],
  withdrawn: ['sales', 'logistics'],
  completed: ['sales', 'finance', 'purchasing', 'logistics'],
};

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
  department: DepartmentCode,
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
  shipments: { shipmentId: string; carrier: string; trackingNumber?: string | null; status: string }[];
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

const stockWording: Wording = (language, { stockReleases, shipments }) => {
  const released = stockReleases.map((release) =>
    zh(language)
      ? `- ${release.sku} @ ${release.warehouse}：释放预留 ${release.quantity} 件`
      : `- ${release.sku} at ${release.warehouse}: ${release.quantity} reserved released`,
  );
  const parcels = shipments.map((shipment) =>
    zh(language)
      ? `- 运单 ${shipment.shipmentId}（${shipment.carrier}${shipment.trackingNumber ? ` ${shipment.trackingNumber}` : ''}）：${shipment.status}`
      : `- shipment ${shipment.shipmentId} (${shipment.carrier}${shipment.trackingNumber ? ` ${shipment.trackingNumber}` : ''}): ${shipment.status}`,
  );
  if (released.length === 0 && parcels.length === 0) {
    return zh(language) ? '没有库存或运单变动。' : 'No stock or shipment changed.';
  }
  return [zh(language) ? '库存与物流：' : 'Stock and shipments:', ...released, ...parcels].join('\n');
};

const itemsBlock: Wording = (language, { lines }) =>
  `${zh(language) ? '取消的商品：' : 'Cancelled items:'}\n${itemsWording(language, lines)}`;

const holdGoods: Wording = (language) =>
  zh(language) ? '请暂缓发货这些商品，等待取消结果。' : 'Hold these goods until the cancellation is decided.';
const shipAsPlanned: Wording = (language) => (zh(language) ? '请照常发货。' : 'Ship the order as planned.');
const refundComing: Wording = (language) =>
  zh(language)
    ? '退款将通过支付网关原路退回，完成后会再通知财务。'
    : 'The refund goes back through the payment gateway; finance hears again once it is done.';

const detailsFor: Record<DepartmentCode, Partial<Record<DepartmentMoment, Wording[]>>> = {
  sales: {
    received: [itemsBlock],
    approved: [itemsBlock],
    rejected: [itemsBlock],
    withdrawn: [itemsBlock],
    completed: [itemsBlock, refundsWording, purchasingWording, stockWording],
  },
  finance: { approved: [itemsBlock, refundComing], completed: [refundsWording] },
  purchasing: { completed: [purchasingWording] },
  logistics: {
    received: [itemsBlock, holdGoods],
    rejected: [itemsBlock, shipAsPlanned],
    withdrawn: [itemsBlock, shipAsPlanned],
    completed: [stockWording],
  },
};

/** The department's part of the message; what it has no wording for at that moment, it gets the items. */
export function departmentDetails(
  department: DepartmentCode,
  moment: DepartmentMoment,
  language: Language,
  facts: DepartmentFacts,
): string {
  const wordings = detailsFor[department][moment] ?? [itemsBlock];
  return wordings.map((wording) => wording(language, facts)).join('\n\n');
}

/** Whether the department has anything of its own to hear now (finance without a refund has not). */
export function concernsDepartment(
  department: DepartmentCode,
  moment: DepartmentMoment,
  facts: DepartmentFacts,
): boolean {
  if (moment !== 'completed') return true;
  if (department === 'finance') return facts.refunds.length > 0;
  if (department === 'purchasing') return facts.purchaseReductions.length + facts.purchaseRefusals.length > 0;
  return true;
}
