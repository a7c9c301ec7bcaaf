// Customer messages in the customer's language (R12). Amounts are formatted from minor units.
import type { ReasonCode } from '../workflows/cancellation.contract';

type Language = 'zh-CN' | 'en';

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

export interface CancellationMessageInput {
  customerName: string;
  orderNumber: string;
  reasonCode: ReasonCode;
  refundedMinor: number;
  currency: string;
}

function money(language: Language, minor: number, currency: string): string {
  return new Intl.NumberFormat(language, { style: 'currency', currency }).format(minor / 100);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function renderCustomerCancellation(language: string, input: CancellationMessageInput) {
  const lang: Language = language === 'en' ? 'en' : 'zh-CN';
  const reason = reasonText[lang][input.reasonCode];
  const refunded = input.refundedMinor > 0 ? money(lang, input.refundedMinor, input.currency) : undefined;
  const lines =
    lang === 'zh-CN'
      ? [
          `${input.customerName}，您好：`,
          `您的订单 ${input.orderNumber} 已取消，原因：${reason}。`,
          refunded ? `已退款 ${refunded}，将原路退回您的支付账户。` : '该订单无需退款。',
          '如需继续购买，欢迎重新下单。',
        ]
      : [
          `Dear ${input.customerName},`,
          `your order ${input.orderNumber} has been cancelled because ${reason}.`,
          refunded
            ? `We have refunded ${refunded} to your original payment method.`
            : 'No payment needs refunding.',
          'You are welcome to place a new order at any time.',
        ];
  return {
    subject:
      lang === 'zh-CN'
        ? `订单 ${input.orderNumber} 已取消`
        : `Your order ${input.orderNumber} has been cancelled`,
    text: lines.join('\n'),
    html: lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n'),
    sms: lines.slice(1, 3).join(' '),
  };
}
