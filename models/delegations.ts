// R15: delegations' operations: making one (once per Idempotency-Key), listing a person's, ending one, and
// finding those in force at a moment. Whether one may be made is asked of rules/delegation.rules.ts; the
// clock is the caller's (`now`), so the approval activity and the API each say which moment they mean.
import { createHash, randomUUID } from 'node:crypto';
import type { StepDelegate } from '../contracts/cancellation.contract';
import { CancelflowError } from '../lib/errors';
import { inForce, mayDelegate } from '../rules/delegation.rules';
import type { Delegation } from './delegation.model';
import type { Models } from './index';
import { isDuplicateKey } from './mongo-errors';

export type StoredDelegation = Delegation & { createdAt: Date; updatedAt: Date };

/** Where a delegation stands at a moment. */
export type DelegationStatus = 'scheduled' | 'in_force' | 'ended' | 'revoked';

export function statusOf(delegation: StoredDelegation, now: Date): DelegationStatus {
  if (delegation.revokedAt && delegation.revokedAt.getTime() <= now.getTime()) return 'revoked';
  if (inForce(delegation, now)) return 'in_force';
  return delegation.from.getTime() > now.getTime() ? 'scheduled' : 'ended';
}

export interface NewDelegation {
  delegatorId: string;
  delegateId: string;
  from: Date;
  until: Date;
  /** The caller's Idempotency-Key, if they sent one. */
  idempotencyKey?: string;
}

/**
 * Records a delegation the rules allow (409 with their reason otherwise). With an Idempotency-Key, a repeat of
 * the same request answers the delegation made the first time (`existing`), even if the period has started
 * since; the same key with another request is a conflict.
 */
export async function createDelegation(
  models: Models,
  request: NewDelegation,
  now: Date,
): Promise<{ delegation: StoredDelegation; existing: boolean }> {
  const { delegatorId, delegateId, from, until } = request;
  const requestKey =
    request.idempotencyKey === undefined ? undefined : `${delegatorId}:${request.idempotencyKey}`;
  const requestHash = createHash('sha256')
    .update(JSON.stringify({ delegatorId, delegateId, from: from.toISOString(), until: until.toISOString() }))
    .digest('hex');
  const findRepeat = async () => {
    if (requestKey === undefined) return null;
    const found = await models.Delegation.findOne({ requestKey }).lean<StoredDelegation>();
    if (found && found.requestHash !== requestHash) {
      throw new CancelflowError(
        'conflict',
        `Idempotency-Key ${request.idempotencyKey} was already used for a different delegation`,
        { field: 'Idempotency-Key' },
      );
    }
    return found;
  };
  const repeat = await findRepeat();
  if (repeat) return { delegation: repeat, existing: true };

  const [delegator, delegate] = await Promise.all([
    models.Person.findOne({ personId: delegatorId }).lean(),
    models.Person.findOne({ personId: delegateId }).lean(),
  ]);
  const verdict = mayDelegate(
    { personId: delegatorId, person: delegator },
    { personId: delegateId, person: delegate },
    { from, until },
    now,
  );
  if (!verdict.allowed) throw new CancelflowError('conflict', verdict.reason, { field: 'delegateId' });
  try {
    const created = await models.Delegation.create({
      delegationId: randomUUID(),
      delegatorId,
      delegateId,
      from,
      until,
      requestKey,
      requestHash,
    });
    return { delegation: created.toObject<StoredDelegation>(), existing: false };
  } catch (error) {
    // A concurrent repeat with the same key won the race: answer with its delegation.
    if (!isDuplicateKey(error)) throw error;
    const winner = await findRepeat();
    if (!winner) throw error;
    return { delegation: winner, existing: true };
  }
}

/** Delegations newest first: `personId`'s given and received, or everyone's when undefined. */
export async function listDelegations(models: Models, personId: string | undefined) {
  const filter = personId === undefined ? {} : { $or: [{ delegatorId: personId }, { delegateId: personId }] };
  return models.Delegation.find(filter)
    .sort({ createdAt: -1, delegationId: -1 })
    .limit(500)
    .lean<StoredDelegation[]>();
}

/**
 * Ends a delegation now: only its delegator or an admin (403 for anyone else, 404 when there is none). Ending
 * one already revoked changes nothing; one that ended or has not started is revoked all the same.
 */
export async function endDelegation(
  models: Models,
  delegationId: string,
  by: { personId: string; admin: boolean },
  now: Date,
): Promise<StoredDelegation> {
  const found = await models.Delegation.findOne({ delegationId }).lean<StoredDelegation>();
  if (!found) throw new CancelflowError('not_found', `delegation ${delegationId} does not exist`);
  if (found.delegatorId !== by.personId && !by.admin) {
    throw new CancelflowError('forbidden', `only ${found.delegatorId} (who made it) or an admin may end it`);
  }
  await models.Delegation.updateOne(
    { delegationId, revokedAt: null },
    { $set: { revokedAt: now, revokedBy: by.personId } },
  );
  const ended = await models.Delegation.findOne({ delegationId }).lean<StoredDelegation>();
  if (!ended) throw new CancelflowError('not_found', `delegation ${delegationId} does not exist`);
  return ended;
}

/**
 * The delegations in force at `at`, as (delegate, on behalf of) pairs, in a stable order: those from any of
 * `delegators`, and/or to `delegate`.
 */
export async function delegationsInForce(
  models: Models,
  who: { delegators?: readonly string[]; delegate?: string },
  at: Date,
): Promise<StepDelegate[]> {
  const found = await models.Delegation.find({
    ...(who.delegators ? { delegatorId: { $in: [...who.delegators] } } : {}),
    ...(who.delegate !== undefined ? { delegateId: who.delegate } : {}),
    from: { $lte: at },
    until: { $gt: at },
  })
    .sort({ delegatorId: 1, delegateId: 1, createdAt: 1 })
    .lean<StoredDelegation[]>();
  return found
    .filter((delegation) => inForce(delegation, at))
    .map((delegation) => ({ delegate: delegation.delegateId, onBehalfOf: delegation.delegatorId }));
}
