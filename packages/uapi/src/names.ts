/**
 * From values back to names, for error messages and disassembly: `nameOf(MapType, 1) === 'Hash'`,
 * `cNameOf(MapType, 1) === 'BPF_MAP_TYPE_HASH'`, `flagNames(MapFlags, 5)` → `['NoPrealloc', 'NumaNode']`.
 */
import { enumCNames } from './generated/enums.generated.ts';

type EnumObject = { readonly [name: string]: number | bigint };

const reverse = new WeakMap<EnumObject, Map<number | bigint, string>>();

function reverseOf(e: EnumObject): Map<number | bigint, string> {
  let map = reverse.get(e);
  if (!map) {
    map = new Map();
    // The first member with a value wins (aliases like ProgRun come after ProgTestRun).
    for (const [name, value] of Object.entries(e)) if (!map.has(value)) map.set(value, name);
    reverse.set(e, map);
  }
  return map;
}

/** The member name of `value` in the generated enum `e` (first declared on aliases), or undefined. */
export function nameOf<E extends EnumObject>(e: E, value: number | bigint): (keyof E & string) | undefined {
  return reverseOf(e).get(value) as (keyof E & string) | undefined;
}

/** The C name of `value` in the generated enum `e` (`'BPF_MAP_TYPE_HASH'`), or undefined. */
export function cNameOf(e: EnumObject, value: number | bigint): string | undefined {
  const name = nameOf(e, value);
  return name === undefined ? undefined : enumCNames.get(e)?.[name];
}

/**
 * Splits a bit mask into the member names of the flag enum `e` (single-bit members only), in bit
 * order; bits no member names are returned as hex (`'0x40000000'`).
 */
export function flagNames<E extends EnumObject>(
  e: E,
  value: number,
): Array<(keyof E & string) | `0x${string}`> {
  const out: Array<(keyof E & string) | `0x${string}`> = [];
  const names = reverseOf(e);
  for (let bit = 0; bit < 53 && value >= 2 ** bit; bit++) {
    const v = 2 ** bit;
    if (Math.floor(value / v) % 2 === 0) continue;
    const n = names.get(v);
    out.push(n !== undefined ? (n as keyof E & string) : `0x${v.toString(16)}`);
  }
  return out;
}
