// The customer's own link to their cancellation (issue #14, row 31, R12, R16): the customer has no account, so
// the link itself is what lets them in. It names the cancellation and its order and says until when it holds,
// and an HMAC-SHA256 over exactly those three, with a key only cancelflow holds (CUSTOMER_LINK_SECRET), proves
// cancelflow wrote it. Nothing is stored: whoever holds the key can check a link, and changing any part of it
// (another cancellation, another order, a later expiry) breaks the signature.
//
// Who holds the key signs: the API (the console hands a customer-service person the link to pass on) and,
// given the key, the notification activities (the customer's mails carry it).
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface CustomerLinkSettings {
  /** The HMAC key (CUSTOMER_LINK_SECRET). */
  secret: string;
  /** How long a link holds from when it is written. */
  ttlMs: number;
}

/** The signed parts of a link, as its query carries them. */
export interface CustomerLinkQuery {
  order: string;
  /** Seconds since the epoch (UTC) until which the link holds. */
  expires: string;
  sig: string;
}

/** Why a link does not hold: not ours or changed (`tampered`), or ours but past its time (`expired`). */
export type CustomerLinkRefusal = 'tampered' | 'expired';

const PURPOSE = 'cancelflow customer link v1';
/** The order link's own purpose: a signature of one kind of link is never one of the other. */
const ORDER_PURPOSE = 'cancelflow customer order link v1';

// Each part on its own line: no choice of parts can make another's signed text.
const hmac = (secret: string, parts: readonly string[]) =>
  createHmac('sha256', secret).update(parts.join('\n')).digest('base64url');

function signature(secret: string, cancellationId: string, orderNumber: string, expires: string): string {
  return hmac(secret, [PURPOSE, cancellationId, orderNumber, expires]);
}

/** Whether `sig` is the expected signature, compared in constant time; then whether the time still holds. */
function verdict(
  expected: string,
  expires: string,
  sig: string,
  now: Date,
): { ok: true; expiresAt: Date } | { ok: false; why: CustomerLinkRefusal } {
  const wanted = Buffer.from(expected);
  const given = Buffer.from(sig);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
    return { ok: false, why: 'tampered' };
  const expiresAt = new Date(Number(expires) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return { ok: false, why: 'expired' };
  return { ok: true, expiresAt };
}

const wellFormed = (expires: unknown, sig: unknown): boolean =>
  typeof expires === 'string' &&
  typeof sig === 'string' &&
  /^\d{1,12}$/.test(expires) &&
  /^[A-Za-z0-9_-]{43}$/.test(sig);

const expiresFrom = (settings: CustomerLinkSettings, now: Date) =>
  String(Math.floor((now.getTime() + settings.ttlMs) / 1000));

/** The path of the customer's page of this cancellation (relative: the caller puts its own address before it). */
export const customerPagePath = (cancellationId: string) =>
  `/customer/cancellations/${encodeURIComponent(cancellationId)}`;

/** A query string of the signed parts (and the page's language, when given; it is not signed). */
export function customerLinkSearch(query: CustomerLinkQuery, language?: string): string {
  const search = new URLSearchParams({ order: query.order, expires: query.expires, sig: query.sig });
  if (language) search.set('lang', language);
  return search.toString();
}

/** Signs a link to the cancellation of this order, holding for `settings.ttlMs` from `now`. */
export function signCustomerLink(
  settings: CustomerLinkSettings,
  cancellation: { cancellationId: string; orderNumber: string },
  now: Date = new Date(),
): CustomerLinkQuery {
  const expires = expiresFrom(settings, now);
  return {
    order: cancellation.orderNumber,
    expires,
    sig: signature(settings.secret, cancellation.cancellationId, cancellation.orderNumber, expires),
  };
}

/** The whole link: the public address, the page, the signed query. */
export function customerLinkUrl(
  settings: CustomerLinkSettings,
  publicBaseUrl: string,
  cancellation: { cancellationId: string; orderNumber: string },
  now: Date = new Date(),
): string {
  const query = signCustomerLink(settings, cancellation, now);
  return `${publicBaseUrl.replace(/\/+$/, '')}${customerPagePath(cancellation.cancellationId)}?${customerLinkSearch(query)}`;
}

/**
 * Whether a link holds for this cancellation now. The signature is checked first, in constant time, so a link
 * that is not ours learns nothing (not even that it would have expired); then its time.
 */
export function checkCustomerLink(
  settings: Pick<CustomerLinkSettings, 'secret'>,
  cancellationId: string,
  query: Partial<Record<keyof CustomerLinkQuery, unknown>>,
  now: Date = new Date(),
): { ok: true; orderNumber: string; expiresAt: Date } | { ok: false; why: CustomerLinkRefusal } {
  const { order, expires, sig } = query;
  if (typeof order !== 'string' || !wellFormed(expires, sig)) return { ok: false, why: 'tampered' };
  const checked = verdict(
    signature(settings.secret, cancellationId, order, expires as string),
    expires as string,
    sig as string,
    now,
  );
  return checked.ok ? { ...checked, orderNumber: order } : checked;
}

// The customer's link to their ORDER (#14): from the shop's order mail, the customer asks to cancel it
// themselves. The shop sends that mail, so cancelflow hands the link out (POST /v1/orders/:orderNumber/
// customer-link); it is signed like the cancellation's link, over its own purpose, the order and the expiry.

/** The signed parts of an order link, as its query carries them (the order is the page's path). */
export interface OrderLinkQuery {
  expires: string;
  sig: string;
}

/** The path of the customer's page of this order. */
export const customerOrderPagePath = (orderNumber: string) =>
  `/customer/orders/${encodeURIComponent(orderNumber)}`;

/** A query string of an order link's signed parts (and the page's language, when given; it is not signed). */
export function orderLinkSearch(query: OrderLinkQuery, language?: string): string {
  const search = new URLSearchParams({ expires: query.expires, sig: query.sig });
  if (language) search.set('lang', language);
  return search.toString();
}

/** Signs a link to this order's page, holding for `settings.ttlMs` from `now`. */
export function signOrderLink(
  settings: CustomerLinkSettings,
  orderNumber: string,
  now: Date = new Date(),
): OrderLinkQuery {
  const expires = expiresFrom(settings, now);
  return { expires, sig: hmac(settings.secret, [ORDER_PURPOSE, orderNumber, expires]) };
}

/** The whole order link: the public address, the page, the signed query; and until when it holds. */
export function orderLinkUrl(
  settings: CustomerLinkSettings,
  publicBaseUrl: string,
  orderNumber: string,
  now: Date = new Date(),
): { url: string; expiresAt: Date } {
  const query = signOrderLink(settings, orderNumber, now);
  return {
    url: `${publicBaseUrl.replace(/\/+$/, '')}${customerOrderPagePath(orderNumber)}?${orderLinkSearch(query)}`,
    expiresAt: new Date(Number(query.expires) * 1000),
  };
}

/** Whether an order link holds for this order now: the signature first, in constant time, then its time. */
export function checkOrderLink(
  settings: Pick<CustomerLinkSettings, 'secret'>,
  orderNumber: string,
  query: Partial<Record<keyof OrderLinkQuery, unknown>>,
  now: Date = new Date(),
): { ok: true; expiresAt: Date } | { ok: false; why: CustomerLinkRefusal } {
  const { expires, sig } = query;
  if (!wellFormed(expires, sig)) return { ok: false, why: 'tampered' };
  return verdict(
    hmac(settings.secret, [ORDER_PURPOSE, orderNumber, expires as string]),
    expires as string,
    sig as string,
    now,
  );
}
