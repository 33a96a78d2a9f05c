/** Number formatting shared by the disassembler: LLVM prints immediates in hex with a sign. */

/** `16` → `0x10`, `-1` → `-0x1`. */
export function hex(n: number | bigint): string {
  if (typeof n === 'bigint') return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** A relative jump offset: `+0x3`, `-0x1`. */
export function rel(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `+0x${n.toString(16)}`;
}

/** A memory operand's displacement: `+ 0x4`, `- 0x8`. */
export function disp(n: number): string {
  return n < 0 ? `- 0x${(-n).toString(16)}` : `+ 0x${n.toString(16)}`;
}
