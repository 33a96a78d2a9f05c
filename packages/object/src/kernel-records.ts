/**
 * A linked program's `.BTF.ext` function and line records as `BPF_PROG_LOAD` takes them
 * (`bpf_func_info`, `bpf_line_info`: `insn_off` in slots of the linked code), written once when
 * the program is linked so a load submits them as they are; `ProgramSpec.funcInfo` and
 * `lineInfo` are decoded from them only when read.
 */
import { FuncInfo as FuncInfoLayout, LineInfo as LineInfoLayout } from '@ebpf/uapi';
import type { FuncInfo, LineInfo } from './spec.ts';

/** Bytes of one `bpf_func_info` and one `bpf_line_info`. */
export const FUNC_INFO_SIZE = FuncInfoLayout.size;
export const LINE_INFO_SIZE = LineInfoLayout.size;

/** The kernel's `line_col` keeps the column in its low 10 bits. */
const LINE_SHIFT = 10;
const COLUMN_MASK = (1 << LINE_SHIFT) - 1;

const F = FuncInfoLayout.fields;
const L = LineInfoLayout.fields;

/** A `.BTF.ext` function record (as `BtfExt.section()` gives it). */
interface FuncRecord {
  readonly typeId: number;
}

/** A `.BTF.ext` line record. */
interface LineRecord {
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly line: number;
  readonly column: number;
}

/** Writes a `bpf_func_info` at byte `at` of `view`: the function at slot `slot`. */
export function writeFuncInfo(view: DataView, at: number, slot: number, r: FuncRecord, le: boolean): void {
  view.setUint32(at + F.insnOff.offset, slot, le);
  view.setUint32(at + F.typeId.offset, r.typeId, le);
}

/** Writes a `bpf_line_info` at byte `at` of `view`: the line starting at slot `slot`. */
export function writeLineInfo(view: DataView, at: number, slot: number, r: LineRecord, le: boolean): void {
  view.setUint32(at + L.insnOff.offset, slot, le);
  view.setUint32(at + L.fileNameOff.offset, r.fileNameOff, le);
  view.setUint32(at + L.lineOff.offset, r.lineOff, le);
  view.setUint32(at + L.lineCol.offset, ((r.line << LINE_SHIFT) | (r.column & COLUMN_MASK)) >>> 0, le);
}

/** `bpf_func_info` records as `FuncInfo`s, slots turned back into instruction indexes. */
export function decodeFuncInfo(bytes: Uint8Array, slots: Uint32Array, le: boolean): FuncInfo[] {
  const view = viewOf(bytes);
  const out: FuncInfo[] = [];
  for (let at = 0; at < bytes.length; at += FUNC_INFO_SIZE)
    out.push({
      insn: indexOf(slots, view.getUint32(at + F.insnOff.offset, le)),
      typeId: view.getUint32(at + F.typeId.offset, le),
    });
  return out;
}

/** `bpf_line_info` records as `LineInfo`s, slots turned back into instruction indexes. */
export function decodeLineInfo(bytes: Uint8Array, slots: Uint32Array, le: boolean): LineInfo[] {
  const view = viewOf(bytes);
  const out: LineInfo[] = [];
  for (let at = 0; at < bytes.length; at += LINE_INFO_SIZE) {
    const lineCol = view.getUint32(at + L.lineCol.offset, le);
    out.push({
      insn: indexOf(slots, view.getUint32(at + L.insnOff.offset, le)),
      fileNameOff: view.getUint32(at + L.fileNameOff.offset, le),
      lineOff: view.getUint32(at + L.lineOff.offset, le),
      line: lineCol >>> LINE_SHIFT,
      column: lineCol & COLUMN_MASK,
    });
  }
  return out;
}

const viewOf = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The instruction starting at `slot` (`slots` ascending, as the linker writes them). */
function indexOf(slots: Uint32Array, slot: number): number {
  let lo = 0;
  let hi = slots.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((slots[mid] as number) < slot) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
