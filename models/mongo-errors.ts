// What the books make of MongoDB's refusals: a unique index refusing a second copy of a record is how every
// write here stays single under retries and concurrent writers, so its error is expected, not a failure.

/** A write refused by a unique index (E11000): another writer, or an earlier attempt, got there first. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 11000;
}

/**
 * A bulk write whose every refused write was refused by a unique index: the records are all there, some written
 * by another writer. (The driver's MongoBulkWriteError lists each refused write with its own code.)
 */
export function onlyDuplicateKeys(error: unknown): boolean {
  if (isDuplicateKey(error)) return true;
  const writeErrors = (error as { writeErrors?: unknown } | null)?.writeErrors;
  const refused = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return refused.length > 0 && refused.every(isDuplicateKey);
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
