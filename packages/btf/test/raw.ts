/** Hand-made raw BTF for the unit tests: u32 words and strings, laid out as the format says. */
import { BtfKind } from '@ebpf/uapi';

/** Raw BTF from words: `types` as u32 words, names as strings (offsets assigned in order). */
export function raw(
  types: (strs: (s: string) => number) => number[],
  littleEndian = true,
  hdrLen = 24,
): Uint8Array {
  let strings = '\0';
  const str = (s: string): number => {
    const at = strings.length;
    strings += `${s}\0`;
    return at;
  };
  const words = types(str);
  const out = new Uint8Array(hdrLen + words.length * 4 + strings.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, littleEndian);
  v.setUint8(2, 1);
  v.setUint32(4, hdrLen, littleEndian);
  v.setUint32(8, 0, littleEndian);
  v.setUint32(12, words.length * 4, littleEndian);
  v.setUint32(16, words.length * 4, littleEndian);
  v.setUint32(20, strings.length, littleEndian);
  for (const [i, w] of words.entries()) v.setUint32(hdrLen + i * 4, w, littleEndian);
  for (let i = 0; i < strings.length; i++) out[hdrLen + words.length * 4 + i] = strings.charCodeAt(i);
  return out;
}

export const info = (kind: number, vlen = 0, kflag = false): number =>
  ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0;

/** int (1), ptr to struct (2), struct s { int a; int b:3 } (3), typedef s_t (4), const s_t (5), array int[4] (6). */
export const sample = (s: (x: string) => number): number[] => [
  ...[s('int'), info(BtfKind.Int), 4, (1 << 24) | 32],
  ...[0, info(BtfKind.Ptr), 3],
  ...[s('s'), info(BtfKind.Struct, 2, true), 8, s('a'), 1, 0, s('b'), 1, (3 << 24) | 32],
  ...[s('s_t'), info(BtfKind.Typedef), 3],
  ...[0, info(BtfKind.Const), 4],
  ...[0, info(BtfKind.Array), 0, 1, 1, 4],
];
