/**
 * Size rules: what a map type requires of its key or value size (an exact size, one of several, or
 * a range), whether a size satisfies one, and how to say it in an error message.
 */

/** A size rule: an exact size, one of several, or any size in a range. */
export type SizeRule =
  | { readonly exactly: number }
  | { readonly oneOf: readonly number[] }
  | { readonly min: number; readonly max?: number; readonly multipleOf?: number };

/** Describes a size rule for an error message. */
export function describeRule(rule: SizeRule): string {
  if ('exactly' in rule) return `exactly ${rule.exactly}`;
  if ('oneOf' in rule) return `one of ${rule.oneOf.join(', ')}`;
  let text = rule.max !== undefined ? `between ${rule.min} and ${rule.max}` : `at least ${rule.min}`;
  if (rule.multipleOf) text += `, a multiple of ${rule.multipleOf}`;
  return text;
}

/** Whether `size` satisfies `rule`. */
export function satisfies(rule: SizeRule, size: number): boolean {
  if ('exactly' in rule) return size === rule.exactly;
  if ('oneOf' in rule) return rule.oneOf.includes(size);
  return (
    size >= rule.min &&
    (rule.max === undefined || size <= rule.max) &&
    (!rule.multipleOf || size % rule.multipleOf === 0)
  );
}
