import { InvalidArgumentError, Option } from 'commander';

/** A commander argument parser for non-negative integers (`--repeat 10`). */
export function integerOption(name: string, min = 0) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return Number(value);
  };
}

/** The `--json` option of every command that prints facts (listings, shows, dumps, test runs). */
export function jsonOption(): Option {
  return new Option('--json', 'print JSON (the same facts, for scripts) instead of text');
}

/** A commander parser that collects a repeated option (`--type a --type b`) into a list. */
export const repeatable = (value: string, previous: string[] = []): string[] => [...previous, value];
