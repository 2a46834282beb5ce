import { InvalidArgumentError } from 'commander';

/** Parses a whole number ≥ `min` for an option (commander reports the error). */
export function intArg(min = 1): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`must be a whole number ≥ ${min}.`);
    return n;
  };
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
