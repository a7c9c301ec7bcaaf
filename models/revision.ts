// Guarded writes read a document by its unique key and write it back only if it is still the revision read
// (its `updatedAt`), through the unique index on key and revision (issue #13: the embedded database serves a
// filter from an index only when the filter names exactly that index's fields).

/**
 * The `updatedAt` a guarded write sets: later than the revision it read even within one millisecond, so that two
 * writers who read the same revision cannot both match it (mongoose's own timestamp could repeat the old value).
 * Write it with `{ timestamps: false }`, or mongoose replaces it.
 */
export function nextRevision(read: Date): Date {
  return new Date(Math.max(Date.now(), read.getTime() + 1));
}
