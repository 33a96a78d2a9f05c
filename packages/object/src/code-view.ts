/**
 * Instruction fields read and written in place in code bytes of one byte order, addressed by
 * 8-byte slot: code stays the bytes the ELF holds (relocated in place) until someone asks for
 * its instructions.
 */
import { isLddw } from '@ebpf/asm';

/** Bytes of one instruction slot. */
export const SLOT = 8;

export class CodeView {
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly littleEndian: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Slots in the code. */
  get slots(): number {
    return this.bytes.length / SLOT;
  }

  op(slot: number): number {
    return this.bytes[slot * SLOT] as number;
  }

  /** 2 for an `lddw`, else 1. */
  span(slot: number): 1 | 2 {
    return isLddw(this.bytes[slot * SLOT] as number) ? 2 : 1;
  }

  src(slot: number): number {
    const regs = this.bytes[slot * SLOT + 1] as number;
    return this.littleEndian ? regs >> 4 : regs & 0x0f;
  }

  setSrc(slot: number, src: number): void {
    const at = slot * SLOT + 1;
    const regs = this.bytes[at] as number;
    this.bytes[at] = this.littleEndian ? (regs & 0x0f) | (src << 4) : (regs & 0xf0) | src;
  }

  /** The (first slot's) signed 32-bit immediate. */
  imm(slot: number): number {
    return this.view.getInt32(slot * SLOT + 4, this.littleEndian);
  }

  setImm(slot: number, imm: number): void {
    this.view.setInt32(slot * SLOT + 4, imm, this.littleEndian);
  }

  /** An `lddw`'s two immediate halves: `lo` in its first slot, `hi` in its second. */
  setImm64(slot: number, lo: number, hi: number): void {
    this.view.setInt32(slot * SLOT + 4, lo, this.littleEndian);
    this.view.setInt32(slot * SLOT + 12, hi, this.littleEndian);
  }
}
