/** Decoded types as plain data, for tests that compare them. */
import type { Type } from '../src/index.ts';

/**
 * `type` with its entries as own properties: they are getters, which `toEqual` and spreading
 * leave out.
 */
export function plain(type: Type): object {
  if ('members' in type) return { ...type, members: type.members };
  if ('values' in type) return { ...type, values: type.values };
  if ('params' in type) return { ...type, params: type.params };
  if ('vars' in type) return { ...type, vars: type.vars };
  return { ...type };
}
