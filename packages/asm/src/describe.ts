/** A short description of a value for error messages: `string 'abc'`, `null`, `object`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string '${value.length > 20 ? `${value.slice(0, 20)}…` : value}'`;
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
