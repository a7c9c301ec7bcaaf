// Search fields are derived from the fields they describe (a customer's name → its pinyin; an order's lines →
// its SKUs) by the models' own middleware, on every write path mongoose offers: save and create, insertMany,
// updates and upserts, replacements, bulkWrite. So no writer can forget them, and a write that would change a
// source in a way the derivation cannot follow (one line's SKU through a positional path, an update
// pipeline) is refused instead of leaving a stale search field behind.
import { Document, Schema, type Connection, type Query } from 'mongoose';
import { CancelflowError } from '../lib/errors';
import {
  nameSearchKeys,
  normalizePhone,
  normalizeText,
  phoneSearchKey,
  pinyinInitialsOf,
  pinyinOf,
} from '../lib/text-normalize';

export type Fields = Record<string, unknown>;

export interface DerivedFieldRules {
  /** Top-level fields the derived ones are computed from. */
  sources: readonly string[];
  /**
   * The derived fields (dotted paths) for the sources in `written`. A source written as null or undefined
   * (removed) maps its derived paths to undefined, which removes them.
   */
  derive(written: Fields, db: Connection): Fields | Promise<Fields>;
  /**
   * Fields `derive` reads besides the sources, that do not set it off themselves (a customer's country, to read
   * a phone number written without its country code). Passed in `written` along with a source when the write
   * has them: a whole document, a document being saved, or the update's own fields (the operator that writes
   * the source, then `$set` and plain fields).
   */
  alsoReads?: readonly string[];
  /**
   * On insert, a source whose derived field the writer already provides is not derived again: writers that
   * hold the customer pass its copy (`orderCustomerCopy`) and spare a read per order in bulk inserts.
   */
  providedOnInsert?: Record<string, string>;
  /** Whether writing this path changes a source in a way `derive` cannot follow. */
  refusesPath?(path: string): boolean;
  /** `$push`/`$addToSet` of items to an array source: the `$addToSet`s that keep the derived fields right. */
  appended?(source: string, items: unknown[]): Fields;
}

export const UPDATES = ['updateOne', 'updateMany', 'findOneAndUpdate'] as const;
export const REPLACEMENTS = ['replaceOne', 'findOneAndReplace'] as const;
const FOLLOWED_OPERATORS = new Set(['$set', '$setOnInsert', '$unset', '$push', '$addToSet']);

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuse(path: string, why: string): never {
  const message = `refused write to ${path}: ${why}, so the search fields derived from it would go stale`;
  throw new CancelflowError('internal', message, { field: path });
}

/** Sets a dotted path in a plain document, creating the objects on the way. */
function assignPath(target: Fields, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = isRecord(next) ? next : (node[part] = {});
  }
  const last = parts[parts.length - 1] as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

function readPath(source: Fields, path: string): unknown {
  return path.split('.').reduce<unknown>((node, part) => (isRecord(node) ? node[part] : undefined), source);
}

/** Derives into a whole document about to be inserted (insertMany lean, bulkWrite insertOne, a replacement). */
async function deriveIntoPlain(doc: Fields, rules: DerivedFieldRules, db: Connection): Promise<void> {
  const written: Fields = {};
  for (const source of rules.sources) {
    const provided = rules.providedOnInsert?.[source];
    if (source in doc && !(provided && readPath(doc, provided) != null)) written[source] = doc[source];
  }
  if (Object.keys(written).length === 0) return;
  for (const field of rules.alsoReads ?? []) if (field in doc) written[field] = doc[field];
  for (const [path, value] of Object.entries(await rules.derive(written, db))) assignPath(doc, path, value);
}

async function deriveIntoDocument(doc: Document, rules: DerivedFieldRules): Promise<void> {
  const plain = doc.toObject({ depopulate: true }) as Fields;
  const written: Fields = {};
  for (const source of rules.sources) {
    const provided = rules.providedOnInsert?.[source];
    if (
      doc.isNew
        ? plain[source] === undefined || (provided && readPath(plain, provided) != null)
        : !doc.isModified(source)
    )
      continue;
    written[source] = plain[source];
  }
  if (Object.keys(written).length === 0) return;
  for (const field of rules.alsoReads ?? []) if (plain[field] !== undefined) written[field] = plain[field];
  for (const [path, value] of Object.entries(await rules.derive(written, doc.db))) doc.set(path, value);
}

function touchesSource(path: string, rules: DerivedFieldRules): boolean {
  return rules.sources.some((source) => path === source || path.startsWith(`${source}.`));
}

/** An update pipeline's stages are not followed: refuse one that writes a source. */
function checkPipeline(stages: unknown[], rules: DerivedFieldRules): void {
  for (const stage of stages) {
    if (!isRecord(stage)) continue;
    for (const [operator, spec] of Object.entries(stage)) {
      const paths =
        operator === '$set' || operator === '$addFields'
          ? Object.keys(isRecord(spec) ? spec : {})
          : operator === '$unset'
            ? [spec].flat().map(String)
            : undefined;
      if (!paths) refuse(operator, 'an update pipeline may only $set, $addFields or $unset');
      for (const path of paths) if (touchesSource(path, rules)) refuse(path, 'an update pipeline writes it');
    }
  }
}

/** Adds to an update document the derived fields for every source it writes. */
async function deriveIntoUpdate(update: Fields, rules: DerivedFieldRules, db: Connection): Promise<void> {
  const topLevel = Object.fromEntries(Object.entries(update).filter(([key]) => !key.startsWith('$')));
  const unset = (path: string) => {
    update.$unset = { ...(isRecord(update.$unset) ? update.$unset : {}), [path]: 1 };
  };

  // Assignments: $setOnInsert (derived on insert only), $set and plain top-level fields (mongoose's $set).
  const assignments: [string, Fields, (path: string, value: unknown) => void][] = [];
  if (isRecord(update.$setOnInsert)) {
    const target = update.$setOnInsert;
    assignments.push([
      '$setOnInsert',
      target,
      (path, value) => value !== undefined && (target[path] = value),
    ]);
  }
  if (isRecord(update.$set)) {
    const target = update.$set;
    assignments.push([
      '$set',
      target,
      (path, value) => (value === undefined ? unset(path) : (target[path] = value)),
    ]);
  }
  assignments.push([
    '',
    topLevel,
    (path, value) => (value === undefined ? unset(path) : (update[path] = value)),
  ]);

  for (const [operator, fields, assign] of assignments) {
    const written: Fields = {};
    for (const [path, value] of Object.entries(fields)) {
      if (rules.refusesPath?.(path)) refuse(path, 'it changes part of a source field');
      if (!rules.sources.includes(path)) continue;
      const provided = operator === '$setOnInsert' ? rules.providedOnInsert?.[path] : undefined;
      if (!(provided && (fields[provided] != null || readPath(fields, provided) != null)))
        written[path] = value;
    }
    if (Object.keys(written).length === 0) continue;
    for (const field of rules.alsoReads ?? []) {
      const along = [fields, update.$set, topLevel].find((read) => isRecord(read) && field in read);
      if (isRecord(along)) written[field] = along[field];
    }
    for (const [path, value] of Object.entries(await rules.derive(written, db))) assign(path, value);
  }

  if (isRecord(update.$unset)) {
    const removed = Object.keys(update.$unset).filter((path) => rules.sources.includes(path));
    for (const path of Object.keys(update.$unset))
      if (rules.refusesPath?.(path)) refuse(path, 'it changes part of a source field');
    if (removed.length > 0) {
      const derived = await rules.derive(Object.fromEntries(removed.map((path) => [path, undefined])), db);
      for (const path of Object.keys(derived)) unset(path);
    }
  }

  for (const operator of ['$push', '$addToSet'] as const) {
    const fields = update[operator];
    if (!isRecord(fields)) continue;
    for (const [path, spec] of Object.entries(fields)) {
      if (rules.refusesPath?.(path)) refuse(path, 'it changes part of a source field');
      if (!rules.sources.includes(path)) continue;
      if (!rules.appended) refuse(path, `${operator} is not followed for it`);
      const items = isRecord(spec) && Array.isArray(spec.$each) ? (spec.$each as unknown[]) : [spec];
      const additions = rules.appended(path, items);
      const addToSet = isRecord(update.$addToSet) ? update.$addToSet : (update.$addToSet = {});
      for (const [derivedPath, values] of Object.entries(additions)) {
        const before = addToSet[derivedPath];
        const earlier = isRecord(before) && Array.isArray(before.$each) ? (before.$each as unknown[]) : [];
        addToSet[derivedPath] = { $each: [...earlier, ...[values].flat()] };
      }
    }
  }

  // Any other operator ($inc, $pull, $rename, …) writing a source or a refused path cannot be followed.
  for (const [operator, fields] of Object.entries(update)) {
    if (!operator.startsWith('$') || FOLLOWED_OPERATORS.has(operator) || !isRecord(fields)) continue;
    const paths = [
      ...Object.keys(fields),
      ...(operator === '$rename' ? Object.values(fields).map(String) : []),
    ];
    for (const path of paths)
      if (rules.sources.includes(path) || rules.refusesPath?.(path))
        refuse(path, `${operator} is not followed`);
  }
}

/** Keeps the fields `rules` derive right on every write path of `schema`'s models. */
export function keepDerivedFields(schema: Schema, rules: DerivedFieldRules): void {
  // save(), create() and insertMany() validate each document first.
  schema.pre('validate', async function () {
    await deriveIntoDocument(this as Document, rules);
  });
  // insertMany({ lean: true }) skips validation (and its hook is not told whether it is lean): derive into
  // the plain documents here; validation, when it runs, then finds them derived.
  schema.pre('insertMany', async function (docs: unknown) {
    const plain = [docs].flat().filter((doc): doc is Fields => isRecord(doc) && !(doc instanceof Document));
    await Promise.all(plain.map((doc) => deriveIntoPlain(doc, rules, this.db)));
  });
  schema.pre([...UPDATES], { document: false, query: true }, async function () {
    const query = this as Query<unknown, unknown>;
    const update = query.getUpdate() as unknown;
    if (Array.isArray(update)) return checkPipeline(update, rules);
    if (!isRecord(update)) return;
    await deriveIntoUpdate(update, rules, query.model.db);
    query.setUpdate(update);
  });
  schema.pre([...REPLACEMENTS], { document: false, query: true }, async function () {
    const query = this as Query<unknown, unknown>;
    const replacement = query.getUpdate() as unknown;
    if (!isRecord(replacement)) return;
    await deriveIntoPlain(replacement, rules, query.model.db);
    query.setUpdate(replacement);
  });
  schema.pre('bulkWrite', async function (operations) {
    for (const operation of operations as unknown[]) {
      if (!isRecord(operation)) continue;
      for (const [kind, spec] of Object.entries(operation)) {
        if (!isRecord(spec)) continue;
        if (kind === 'insertOne' && isRecord(spec.document))
          await deriveIntoPlain(spec.document, rules, this.db);
        if (kind === 'replaceOne' && isRecord(spec.replacement))
          await deriveIntoPlain(spec.replacement, rules, this.db);
        if ((kind === 'updateOne' || kind === 'updateMany') && spec.update !== undefined) {
          if (Array.isArray(spec.update)) checkPipeline(spec.update, rules);
          else if (isRecord(spec.update)) await deriveIntoUpdate(spec.update, rules, this.db);
        }
      }
    }
  });
}

/** Whether an update changes a source of documents that already exist (not only on insert). */
export function updateChangesSources(update: unknown, sources: readonly string[]): boolean {
  if (Array.isArray(update)) return true;
  if (!isRecord(update)) return false;
  return Object.entries(update).some(([key, value]) =>
    !key.startsWith('$')
      ? sources.includes(key)
      : key !== '$setOnInsert' &&
        isRecord(value) &&
        Object.keys(value).some((path) => sources.includes(path)),
  );
}

// ---- Customers -------------------------------------------------------------------------------------------

/** What finds a customer: its name as typed, in pinyin and by initials, its phone and its e-mail. */
export interface CustomerSearch {
  /** Normalised name (NFKC, lower-case, single spaces). */
  name: string;
  pinyin?: string;
  initials?: string;
  /** Every key a prefix search of the name may match (see `nameSearchKeys`). */
  nameKeys: string[];
  /** Digits, with "+" and the country code when it was given (E.164). */
  phone?: string;
  /** The phone's digits reversed: a search by the number's last digits is a prefix search on it. */
  phoneKey?: string;
  email?: string;
}

/** The same fields as stored, on customers (`search`) and on their orders (`customerSearch`). */
export const customerSearchSchema = new Schema(
  {
    name: { type: String },
    pinyin: { type: String },
    initials: { type: String },
    nameKeys: { type: [String], default: undefined },
    phone: { type: String },
    phoneKey: { type: String },
    email: { type: String },
  },
  { _id: false },
);

export interface CustomerContact {
  name: string;
  phone?: string | null;
  email?: string | null;
}

export function nameSearchOf(
  name: string,
): Pick<CustomerSearch, 'name' | 'pinyin' | 'initials' | 'nameKeys'> {
  return {
    name: normalizeText(name),
    pinyin: pinyinOf(name),
    initials: pinyinInitialsOf(name),
    nameKeys: nameSearchKeys(name),
  };
}

export function phoneSearchOf(phone: string | null | undefined): Pick<CustomerSearch, 'phone' | 'phoneKey'> {
  return phone ? { phone: normalizePhone(phone), phoneKey: phoneSearchKey(phone) } : {};
}

export function emailSearchOf(email: string | null | undefined): Pick<CustomerSearch, 'email'> {
  return email ? { email: normalizeText(email) } : {};
}

export function customerSearchOf(customer: CustomerContact): CustomerSearch {
  return {
    ...nameSearchOf(customer.name),
    ...phoneSearchOf(customer.phone),
    ...emailSearchOf(customer.email),
  };
}

/** What an order keeps of its customer so that one collection, with its own indexes, answers a search. */
export function orderCustomerCopy(customer: CustomerContact): {
  customerName: string;
  customerSearch: CustomerSearch;
} {
  return { customerName: customer.name, customerSearch: customerSearchOf(customer) };
}

/**
 * Brings the copies on the customers' orders up to date. The customer model calls it after each write that
 * changes a name, phone or e-mail; it is idempotent, so it also repairs copies a crash left behind.
 */
export async function syncCustomerCopies(db: Connection, customerIds: readonly string[]): Promise<void> {
  if (customerIds.length === 0) return;
  const customers = await db
    .model('Customer')
    .find({ customerId: { $in: customerIds } }, { customerId: 1, name: 1, phone: 1, email: 1 })
    .lean<(CustomerContact & { customerId: string })[]>();
  for (const customer of customers) {
    await db
      .model('SalesOrder')
      .updateMany({ customerId: customer.customerId }, { $set: orderCustomerCopy(customer) });
  }
}
