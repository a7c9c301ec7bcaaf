// Signing in and calling with a key (R3, R25, R26): passwords checked against argon2id hashes with a lock-out
// after repeated failures, sessions and API keys found by the digest of their secret. Every lookup is by a
// unique key; a secret itself is never stored or logged.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import type { PersonRole } from '../contracts/books.contract';
import { CancelflowError } from '../lib/errors';
import type { Models } from './index';
import { isDuplicateKey } from './mongo-errors';

/** Who a session or key acts as, from the books. */
export interface Principal {
  personId: string;
  name: string;
  roles: PersonRole[];
  approvalLevel: number;
  language: 'zh-CN' | 'en';
}

export interface SignInRules {
  maxFailures: number;
  lockMs: number;
}

export type SignInOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'locked'; lockedUntil: Date };

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
const randomSecret = () => randomBytes(32).toString('base64url');

/** Compared in constant time, so a caller learns nothing from how long a wrong secret takes. */
function sameDigest(secret: string, storedHash: string): boolean {
  const given = Buffer.from(digest(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

// A hash to verify against when the login names nobody, so an unknown login costs as long as a wrong password.
const decoyHash = argon2.hash(randomSecret());

/** The active person with this id, as a principal; undefined when unknown or no longer active. */
export async function findPrincipal(models: Models, personId: string): Promise<Principal | undefined> {
  // By the key alone, which its unique index serves (issue #13: one field more makes the embedded database
  // read every person); whether they are still active is checked here.
  const person = await models.Person.findOne({ personId }).lean();
  if (!person?.active) return undefined;
  return {
    personId: person.personId,
    name: person.name,
    roles: person.roles,
    approvalLevel: person.approvalLevel,
    language: person.language,
  };
}

/** Sets (or replaces) a person's password, and unlocks their account. */
export async function setPassword(models: Models, personId: string, password: string): Promise<void> {
  if (password.length < 12) {
    throw new CancelflowError('validation_failed', 'password: at least 12 characters', { field: 'password' });
  }
  if (!(await models.Person.exists({ personId }))) {
    throw new CancelflowError('not_found', `no person ${personId} in the books`, { field: 'personId' });
  }
  await models.Account.updateOne(
    { personId },
    { $set: { passwordHash: await argon2.hash(password), failedSignIns: 0, lockedUntil: null } },
    { upsert: true },
  );
}

/**
 * Checks a password for a login (the person's id or e-mail). A wrong password counts towards the lock-out; at
 * `maxFailures` in a row the account locks for `lockMs`, during which even the right password is refused.
 */
export async function checkPassword(
  models: Models,
  login: string,
  password: string,
  rules: SignInRules,
  now = new Date(),
): Promise<SignInOutcome> {
  const person = await models.Person.findOne(
    login.includes('@') ? { email: login.toLowerCase(), active: true } : { personId: login, active: true },
  ).lean();
  const account = person && (await models.Account.findOne({ personId: person.personId }).lean());
  if (!person || !account?.passwordHash) {
    await argon2.verify(await decoyHash, password);
    return { ok: false, reason: 'invalid' };
  }
  if (account.lockedUntil && account.lockedUntil > now) {
    return { ok: false, reason: 'locked', lockedUntil: account.lockedUntil };
  }
  if (await argon2.verify(account.passwordHash, password)) {
    await models.Account.updateOne(
      { personId: person.personId },
      { $set: { failedSignIns: 0, lockedUntil: null } },
    );
    const principal = await findPrincipal(models, person.personId);
    return principal ? { ok: true, principal } : { ok: false, reason: 'invalid' };
  }
  // Counted atomically, so concurrent guesses cannot slip past the limit.
  const counted = await models.Account.findOneAndUpdate(
    { personId: person.personId },
    { $inc: { failedSignIns: 1 } },
    { returnDocument: 'after' },
  ).lean();
  if ((counted?.failedSignIns ?? 0) >= rules.maxFailures) {
    const lockedUntil = new Date(now.getTime() + rules.lockMs);
    await models.Account.updateOne(
      { personId: person.personId },
      { $set: { failedSignIns: 0, lockedUntil } },
    );
    return { ok: false, reason: 'locked', lockedUntil };
  }
  return { ok: false, reason: 'invalid' };
}

/** What a company's identity provider says about the person signing in through it (OpenID Connect). */
export interface OidcIdentity {
  /** The provider's `sub`: stable and never reassigned, unlike an e-mail address. */
  subject: string;
  email?: string;
  /** Whether the provider has verified that the person controls `email`; an unverified one links nobody. */
  emailVerified?: boolean;
}

/**
 * The person an identity from the provider signs in as: the one whose account records its subject; else the
 * one active person whose e-mail is the provider's verified e-mail, whose account then records the subject, so
 * later sign-ins map by subject whatever becomes of the e-mail. Undefined (nobody) when no one matches, when the
 * e-mail is unverified or shared by several people, when that person's account is already linked to another
 * subject (a provider's new identity does not take over an account), or when the person has left.
 */
export async function findPersonForOidc(
  models: Models,
  identity: OidcIdentity,
): Promise<Principal | undefined> {
  const linked = await models.Account.findOne({ oidcSubject: identity.subject }, { personId: 1 }).lean();
  if (linked) return findPrincipal(models, linked.personId);
  if (!identity.email || identity.emailVerified !== true) return undefined;
  const people = await models.Person.find(
    { email: identity.email.trim().toLowerCase(), active: true },
    { personId: 1 },
  )
    .limit(2)
    .lean();
  const [person] = people;
  if (!person || people.length > 1) return undefined;
  try {
    // Only an account not yet linked takes the subject; with none, one is made (a person may have no password).
    await models.Account.updateOne(
      { personId: person.personId, oidcSubject: null },
      { $set: { oidcSubject: identity.subject } },
      { upsert: true },
    );
  } catch (error) {
    // The person's account holds another subject (the upsert's insert collides on personId), or a concurrent
    // sign-in of this same identity linked it first (on oidcSubject): only the latter signs in.
    if (!isDuplicateKey(error)) throw error;
    const raced = await models.Account.findOne({ oidcSubject: identity.subject }, { personId: 1 }).lean();
    return raced ? findPrincipal(models, raced.personId) : undefined;
  }
  return findPrincipal(models, person.personId);
}

/** Starts a session; returns the random id the cookie carries (stored only as its digest). */
export async function startSession(
  models: Models,
  personId: string,
  via: 'password' | 'oidc',
  ttlMs: number,
  now = new Date(),
): Promise<string> {
  const sessionId = randomSecret();
  await models.Session.create({
    sessionHash: digest(sessionId),
    personId,
    via,
    expiresAt: new Date(now.getTime() + ttlMs),
  });
  return sessionId;
}

/** The live session with this id: not ended, not expired. */
export async function findSession(
  models: Models,
  sessionId: string,
  now = new Date(),
): Promise<{ personId: string; expiresAt: Date } | undefined> {
  const session = await models.Session.findOne({ sessionHash: digest(sessionId) }).lean();
  if (!session || session.endedAt || session.expiresAt <= now) return undefined;
  return { personId: session.personId, expiresAt: session.expiresAt };
}

export async function endSession(models: Models, sessionId: string, now = new Date()): Promise<void> {
  await models.Session.updateOne(
    { sessionHash: digest(sessionId), endedAt: null },
    { $set: { endedAt: now } },
  );
}

const KEY_PREFIX = 'cfk';
const TOKEN_PATTERN = /^cfk_([A-Za-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

export interface ApiKeyView {
  keyId: string;
  name: string;
  personId: string;
  scopes: PersonRole[];
  createdBy: string;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
}

function keyView(key: {
  keyId: string;
  name: string;
  personId: string;
  scopes: PersonRole[];
  createdBy: string;
  createdAt: Date;
  revokedAt?: Date | null;
  lastUsedAt?: Date | null;
}): ApiKeyView {
  return {
    keyId: key.keyId,
    name: key.name,
    personId: key.personId,
    scopes: key.scopes,
    createdBy: key.createdBy,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString(),
  };
}

/**
 * Issues a key acting as `personId` in some of their roles. The token is shown once, here; only its digest
 * is kept, so a lost token is revoked and replaced, never recovered.
 */
export async function issueApiKey(
  models: Models,
  request: { name: string; personId: string; scopes: PersonRole[]; createdBy: string },
): Promise<{ key: ApiKeyView; token: string }> {
  const principal = await findPrincipal(models, request.personId);
  if (!principal) {
    throw new CancelflowError('validation_failed', `personId: no active person ${request.personId}`, {
      field: 'personId',
    });
  }
  const foreign = request.scopes.filter((scope) => !principal.roles.includes(scope));
  if (foreign.length > 0 || request.scopes.length === 0) {
    throw new CancelflowError(
      'validation_failed',
      `scopes: a key acts in roles its person has (${principal.roles.join(', ') || 'none'}), not ${foreign.join(', ') || 'none'}`,
      { field: 'scopes' },
    );
  }
  const keyId = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);
  const secret = randomSecret();
  const created = await models.ApiKey.create({ ...request, keyId, secretHash: digest(secret) });
  return { key: keyView(created.toObject()), token: `${KEY_PREFIX}_${keyId}_${secret}` };
}

/** The live key this bearer token names, with its person; undefined when unknown, wrong or revoked. */
export async function findApiKey(
  models: Models,
  token: string,
  now = new Date(),
): Promise<{ keyId: string; personId: string; scopes: PersonRole[] } | undefined> {
  const [, keyId, secret] = TOKEN_PATTERN.exec(token) ?? [];
  if (!keyId || !secret) return undefined;
  const key = await models.ApiKey.findOne({ keyId }).lean();
  if (!key || key.revokedAt || !sameDigest(secret, key.secretHash)) return undefined;
  // At most one write a minute per key, however busy it is: judged on the key as read, written by the key
  // alone (its unique index serves it, issue #13). `$max`, so that calls racing past the check leave the latest.
  if (!key.lastUsedAt || key.lastUsedAt.getTime() < now.getTime() - 60_000) {
    await models.ApiKey.updateOne({ keyId }, { $max: { lastUsedAt: now } });
  }
  return { keyId, personId: key.personId, scopes: key.scopes };
}

export async function listApiKeys(models: Models): Promise<ApiKeyView[]> {
  const keys = await models.ApiKey.find({}).sort({ createdAt: -1 }).lean();
  return keys.map(keyView);
}

/** Revokes a key; revoking it again changes nothing. Unknown keys are not found. */
export async function revokeApiKey(
  models: Models,
  keyId: string,
  by: string,
  now = new Date(),
): Promise<ApiKeyView> {
  await models.ApiKey.updateOne({ keyId, revokedAt: null }, { $set: { revokedAt: now, revokedBy: by } });
  const key = await models.ApiKey.findOne({ keyId }).lean();
  if (!key) throw new CancelflowError('not_found', `no API key ${keyId}`);
  return keyView(key);
}
