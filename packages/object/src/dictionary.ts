/**
 * A record keyed by names from the object file. Without a prototype, so a symbol called
 * `__proto__` or `constructor` is just a key.
 */
export function dictionary<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
