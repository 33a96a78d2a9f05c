import { describe, expect, it } from 'vitest';
import { btfBlob, btfFunctions } from './kernel-btf.ts';

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
  const view = new DataView(types.buffer);
  for (const [i, word] of words.entries()) view.setUint32(i * 4, word >>> 0, true);
  return btfBlob(types, new TextEncoder().encode(strings));
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
