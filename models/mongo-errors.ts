// What the books make of MongoDB's refusals: a unique index refusing a second copy of a record is how every
// write here stays single under retries and concurrent writers, so its error is expected, not a failure.

/** A write refused by a unique index (E11000): another writer, or an earlier attempt, got there first. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * Writes a record kept single by a unique key, or, when the key refuses the write because the record is
 * there already (a concurrent writer's insert won, or an earlier attempt's), finds that record instead. Any
 * other error is thrown.
 */
export async function createOrFind<Created, Found>(
  create: () => PromiseLike<Created>,
  findExisting: () => PromiseLike<Found>,
): Promise<Created | Found> {
  try {
    return await create();
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    return findExisting();
  }
}
