import { describe, expect, it } from 'vitest';
import { btfFunctions } from './kernel-btf.ts';

/** A BTF blob: [1] INT "int", [2] FUNC_PROTO (int a) -> int, [3] FUNC "probe", [4] STRUCT "s" { int x; }, [5] FUNC "other". */
function blob(): Uint8Array {
  const strings = '\0int\0a\0probe\0s\0x\0other\0';
  const at = (name: string) => strings.indexOf(`\0${name}\0`) + 1;
  const words: number[] = [
    ...[at('int'), 1 << 24, 4, (1 << 24) | 32], // INT + encoding
    ...[0, (13 << 24) | 1, 1, at('a'), 1], // FUNC_PROTO, 1 param
    ...[at('probe'), 12 << 24, 2], // FUNC -> proto 2
    ...[at('s'), (4 << 24) | 1, 4, at('x'), 1, 0], // STRUCT, 1 member
    ...[at('other'), 12 << 24, 2],
  ];
  const types = new Uint8Array(words.length * 4);
  const tv = new DataView(types.buffer);
  words.forEach((w, i) => tv.setUint32(i * 4, w >>> 0, true));
  const str = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + types.length + str.length);
  const hv = new DataView(out.buffer);
  hv.setUint16(0, 0xeb9f, true);
  hv.setUint8(2, 1);
  hv.setUint32(4, 24, true);
  hv.setUint32(8, 0, true);
  hv.setUint32(12, types.length, true);
  hv.setUint32(16, types.length, true);
  hv.setUint32(20, str.length, true);
  out.set(types, 24);
  out.set(str, 24 + types.length);
  return out;
}

describe('btfFunctions', () => {
  it('maps function names to their type ids, skipping other kinds', () => {
    expect([...btfFunctions(blob())]).toEqual([
      ['probe', 3],
      ['other', 5],
    ]);
  });

  it('refuses what is not BTF', () => {
    expect(() => btfFunctions(new Uint8Array(32))).toThrow(/not a little-endian BTF blob/);
  });
});
