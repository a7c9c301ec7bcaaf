// The seeded randomness every part of the generator draws from: a small PRNG, one stream per (seed, kind,
// index) so that each order, customer and product draws the same whatever else a run makes, and the draws
// built on it (a pick, a weighted choice, digits, a UUID).

export type Random = () => number;

/** mulberry32: a tiny, fast PRNG with a 32-bit state; good enough to spread demo data. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hashes the parts into one 32-bit seed, so that each (seed, stream, index) has a stream of its own. */
export function mix(...parts: number[]): number {
  let hash = 0x811c9dc5;
  for (const part of parts) {
    hash = Math.imul(hash ^ (part >>> 0), 0x01000193);
    hash ^= hash >>> 15;
    hash = Math.imul(hash, 0x2c1b3c6d);
    hash ^= hash >>> 12;
  }
  return hash >>> 0;
}

export const STREAMS = { product: 1, customer: 2, order: 3 } as const;

export const pick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

/** Skewed towards the start of a list: common surnames and names come up more often. */
export const skewedPick = <T>(random: Random, items: readonly T[]): T =>
  items[Math.floor(random() ** 2 * items.length)] as T;

export function weighted<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  const total = choices.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [choice, weight] of choices) if ((roll -= weight) < 0) return choice;
  return (choices[choices.length - 1] as readonly [T, number])[0];
}

export const between = (random: Random, low: number, high: number) =>
  low + Math.floor(random() * (high - low + 1));
export function digits(random: Random, count: number): string {
  let text = '';
  for (let index = 0; index < count; index += 1) text += Math.floor(random() * 10);
  return text;
}
const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export function alphanumeric(random: Random, count: number, alphabet = ALPHANUMERIC): string {
  let text = '';
  for (let index = 0; index < count; index += 1) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** A version-4 UUID drawn from the stream, like the ones the API gives cancellations. */
export function uuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)] as string;
  const text = hex.join('');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}
