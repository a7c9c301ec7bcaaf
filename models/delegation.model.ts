// R15: an approver who is away names a delegate for a period; the approval steps found while it is in force let
// the delegate decide on their behalf. Ended early by setting `revokedAt` (kept, never deleted: decisions refer
// to it). Whether a delegation may be made is the rules' to say (rules/delegation.rules.ts).
import { Schema, type Connection, type InferSchemaType } from 'mongoose';

export const delegationSchema = new Schema(
  {
    delegationId: { type: String, required: true, unique: true },
    /** The approver who is away: always the caller who made it, never a name from a request body. */
    delegatorId: { type: String, required: true },
    delegateId: { type: String, required: true },
    /** In force from (inclusive) until (exclusive), unless revoked before. */
    from: { type: Date, required: true },
    until: { type: Date, required: true },
    /** The delegator's Idempotency-Key (prefixed with their id): a repeated request finds this delegation. */
    requestKey: { type: String, unique: true, sparse: true },
    /** A digest of the request the key came with: the same key with another request is refused. */
    requestHash: { type: String },
    revokedAt: { type: Date, default: null },
    revokedBy: { type: String },
  },
  { timestamps: true },
);
// A person's delegations given and received; the ones in force for the approvers a step found.
delegationSchema.index({ delegatorId: 1, until: 1 });
delegationSchema.index({ delegateId: 1, until: 1 });

export type Delegation = InferSchemaType<typeof delegationSchema>;
export const delegationModel = (db: Connection) => db.model('Delegation', delegationSchema);
