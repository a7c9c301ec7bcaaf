// Parsers of option values: a wrong value is a usage error (exit 2) naming what was expected.
import { InvalidArgumentError } from 'commander';

export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('expected a whole number, 1 or more');
  }
  return parsed;
}

export function positiveSeconds(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('expected a number of seconds above 0');
  }
  return parsed;
}

/** Repeatable options: each use adds its value to the list. */
export function collect<T>(parse: (value: string) => T) {
  return (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];
}

export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a value, not nothing');
  return value;
}
