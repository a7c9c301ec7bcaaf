// How people and systems prove who they are (R3, R25, R26): a person's password account, their signed-in
// sessions, and the API keys back-end systems call with. Secrets are never stored: passwords as argon2id hashes,
// session ids and key secrets (random, 256 bits) as SHA-256 digests, looked up by a unique key.
import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { PERSON_ROLES } from '../contracts/books.contract';

export const accountSchema = new Schema(
  {
    /** The person of the books this account signs in as. */
    personId: { type: String, required: true, unique: true },
    passwordHash: { type: String },
    /** The OpenID Connect subject mapped to this person, when their company signs in through a provider. */
    oidcSubject: { type: String, unique: true, sparse: true },
    /** Failed sign-ins since the last success; at the configured count the account locks for a while. */
    failedSignIns: { type: Number, required: true, default: 0 },
    lockedUntil: { type: Date, default: null },
  },
  { timestamps: true },
);

export const sessionSchema = new Schema(
  {
    /** SHA-256 of the random session id the cookie carries. */
    sessionHash: { type: String, required: true, unique: true },
    personId: { type: String, required: true, index: true },
    via: { type: String, enum: ['password', 'oidc'], required: true },
    expiresAt: { type: Date, required: true },
    /** Set by sign-out: the cookie may still be presented, and is refused. */
    endedAt: { type: Date, default: null },
  },
  { timestamps: true },
);

export const apiKeySchema = new Schema(
  {
    /** The public half of the token (`cfk_<keyId>_<secret>`), by which it is found. */
    keyId: { type: String, required: true, unique: true },
    secretHash: { type: String, required: true },
    name: { type: String, required: true, trim: true },
    /** The identity the key acts as: what it requests is requested by this person. */
    personId: { type: String, required: true, index: true },
    /** The roles of that person the key may act in (a subset of theirs, checked on every call). */
    scopes: { type: [{ type: String, enum: PERSON_ROLES }], required: true },
    createdBy: { type: String, required: true },
    revokedAt: { type: Date, default: null },
    revokedBy: { type: String },
    lastUsedAt: { type: Date, default: null },
  },
  { timestamps: true },
);

export type Account = InferSchemaType<typeof accountSchema>;
export type Session = InferSchemaType<typeof sessionSchema>;
export type ApiKey = InferSchemaType<typeof apiKeySchema>;
export const accountModel = (db: Connection) => db.model('Account', accountSchema);
export const sessionModel = (db: Connection) => db.model('Session', sessionSchema);
export const apiKeyModel = (db: Connection) => db.model('ApiKey', apiKeySchema);
