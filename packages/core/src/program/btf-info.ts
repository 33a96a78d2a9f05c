/**
 * The BTF a program is loaded with: the object's BTF fd, and `bpf_func_info` / `bpf_line_info`
 * records (which function and which C source line each instruction belongs to), encoded as the
 * kernel takes them. Programs with BPF-to-BPF calls or callbacks need func_info.
 */
import { FuncInfo, LineInfo } from '@ebpf/uapi';
import type { HasFd } from '../codec/per-cpu.ts';
import { InvalidArgumentError } from '../errors.ts';

/** A function the kernel knows in a loaded program: where it starts and its BTF `Func`. */
export interface FuncInfoRecord {
  /** Instruction slot (8-byte unit) where the function starts. */
  readonly insn: number;
  /** Its `Func` type id in the program's BTF. */
  readonly typeId: number;
}

/** A source line of a loaded program: where it starts, and its file, line and column in the BTF. */
export interface LineInfoRecord {
  /** Instruction slot the line starts at. */
  readonly insn: number;
  /** Offsets into the BTF string section. */
  readonly fileNameOff: number;
  readonly lineOff: number;
  readonly line: number;
  readonly column: number;
}

/**
 * What `BpfProgram.load`'s `btf` option takes. Each kind of record comes as objects or already
 * encoded: the kernel's `bpf_func_info` (8 bytes each) / `bpf_line_info` (16 bytes each) records
 * in this machine's byte order, submitted as they are (what `programBytecode` of `@ebpf/object`
 * gives).
 */
export interface ProgramBtf {
  /** The loaded BTF the records refer to (a `BtfHandle`). */
  readonly handle: HasFd;
  readonly funcInfo?: readonly FuncInfoRecord[] | Uint8Array;
  readonly lineInfo?: readonly LineInfoRecord[] | Uint8Array;
}

/** The kernel's line_col packs the column in the low 10 bits. */
const COLUMN_BITS = 10;

/** `bpf_func_info` records, or undefined when there are none. */
export function encodeFuncInfo(
  records: readonly FuncInfoRecord[] | Uint8Array | undefined,
): Uint8Array | undefined {
  if (records instanceof Uint8Array) return encoded(records, FuncInfo.size, 'funcInfo');
  if (records === undefined || records.length === 0) return undefined;
  const out = new Uint8Array(new ArrayBuffer(records.length * FuncInfo.size));
  const view = new DataView(out.buffer);
  records.forEach((r, i) => {
    const at = i * FuncInfo.size;
    view.setUint32(at + FuncInfo.fields.insnOff.offset, r.insn, true);
    view.setUint32(at + FuncInfo.fields.typeId.offset, r.typeId, true);
  });
  return out;
}

/** `bpf_line_info` records, or undefined when there are none. */
export function encodeLineInfo(
  records: readonly LineInfoRecord[] | Uint8Array | undefined,
): Uint8Array | undefined {
  if (records instanceof Uint8Array) return encoded(records, LineInfo.size, 'lineInfo');
  if (records === undefined || records.length === 0) return undefined;
  const out = new Uint8Array(new ArrayBuffer(records.length * LineInfo.size));
  const view = new DataView(out.buffer);
  records.forEach((r, i) => {
    const at = i * LineInfo.size;
    view.setUint32(at + LineInfo.fields.insnOff.offset, r.insn, true);
    view.setUint32(at + LineInfo.fields.fileNameOff.offset, r.fileNameOff, true);
    view.setUint32(at + LineInfo.fields.lineOff.offset, r.lineOff, true);
    view.setUint32(
      at + LineInfo.fields.lineCol.offset,
      ((r.line << COLUMN_BITS) | (r.column & 0x3ff)) >>> 0,
      true,
    );
  });
  return out;
}

/** Records given already encoded: whole records only (the kernel reads count × size bytes). */
function encoded(bytes: Uint8Array, size: number, what: string): Uint8Array | undefined {
  if (bytes.length % size !== 0)
    throw new InvalidArgumentError(
      `btf.${what}: ${bytes.length} bytes are not whole ${size}-byte records; give the records as objects or encode each as the kernel's ${size}-byte record`,
    );
  return bytes.length === 0 ? undefined : bytes;
}
