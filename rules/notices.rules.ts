// R6, R17, R18, R24: who hears of each moment of a cancellation. The policy names the departments per moment;
// these are the defaults for cancellations that recorded a policy from before it did, and the rules that
// narrow them by what the cancellation actually did. The customer hears of their own moments only.
import type { Department, NoticeMoment } from '../contracts/cancellation.contract';

/** The moments the customer is told of through a notice; completion has a message of its own (notifyCustomer). */
export const CUSTOMER_MOMENTS = [
  'received',
  'rejected',
  'withdrawn',
  'options_offered',
  'redelivery',
] as const;
export type CustomerMoment = (typeof CUSTOMER_MOMENTS)[number];

/**
 * The customer hears of approval only as the cancellation's completion; recalls and late goods are the
 * departments' business.
 */
export function customerHearsOf(moment: NoticeMoment): moment is CustomerMoment {
  return (CUSTOMER_MOMENTS as readonly NoticeMoment[]).includes(moment);
}

/** Who hears of each moment unless the policy (or the caller) names the departments. */
export const DEPARTMENTS_BY_MOMENT: Record<NoticeMoment, readonly Department[]> = {
  // Sales follows every request; logistics must hold the goods while it is decided.
  received: ['sales', 'logistics'],
  // Finance prepares the refund.
  approved: ['sales', 'finance'],
  // Logistics may ship again.
  rejected: ['sales', 'logistics'],
  withdrawn: ['sales', 'logistics'],
  completed: ['sales', 'finance', 'purchasing', 'logistics'],
  // Logistics watches for the recalled parcels coming back; sales may hear from the customer.
  recall_requested: ['sales', 'logistics'],
  // Sales answers the customer's questions; logistics may have goods coming back.
  options_offered: ['sales', 'logistics'],
  // Logistics confirms receipt or chases the carrier; sales chases the customer.
  return_overdue: ['sales', 'logistics'],
  // Logistics delivers again; finance refunds nothing after all.
  redelivery: ['sales', 'finance', 'logistics'],
};

/** Of the default departments, those a completed cancellation concerns: finance if money moved, purchasing if POs did. */
export function concernsDepartment(
  department: Department,
  moment: NoticeMoment,
  did: { refunded: boolean; changedPurchasing: boolean },
): boolean {
  if (moment !== 'completed') return true;
  if (department === 'finance') return did.refunded;
  if (department === 'purchasing') return did.changedPurchasing;
  return true;
}
