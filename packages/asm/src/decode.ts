import { describeValue } from './describe.ts';
import { elfObjectReason, isElfObject } from './elf-object.ts';
import { type CodecOptions, isLittleEndian } from './encode.ts';
import { DecodeError } from './errors.ts';
import { type Instruction, instructionProblem } from './instruction.ts';
import { LDDW } from './opcode.ts';

/** Joins `lddw` immediate halves without bigint arithmetic. */
const immScratch = new DataView(new ArrayBuffer(8));

/**
 * Decodes an instruction stream into instructions (`lddw` from its two slots into one
 * instruction with a bigint `imm`). Unknown opcodes, reserved fields that are not zero, a
 * truncated `lddw` or a length that is not a multiple of 8 throw {@link DecodeError} with the byte
 * offset of the bad instruction; so does an ELF object file, which is not an instruction stream.
 */
export function decode(bytes: Uint8Array, options: CodecOptions = {}): Instruction[] {
  const out: Instruction[] = [];
  walk(bytes, options, out);
  return out;
}

/**
 * Checks an instruction stream as {@link decode} does (the same {@link DecodeError} for the same
 * bytes) without making an instruction object per slot: for code kept as bytes and decoded only
 * when someone asks for its instructions.
 */
export function checkBytecode(bytes: Uint8Array, options: CodecOptions = {}): void {
  walk(bytes, options, undefined);
}

/** What `checkBytecode` checks each slot as: one object, refilled (no lddw immediate can be out of range). */
const scratch: { op: number; dst: number; src: number; off: number; imm: number | bigint } = {
  op: 0,
  dst: 0,
  src: 0,
  off: 0,
  imm: 0,
};

/** Decodes into `out`, or only checks when `out` is undefined. */
function walk(bytes: Uint8Array, options: CodecOptions, out: Instruction[] | undefined): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new DecodeError(`decode takes a Uint8Array of instruction bytes, got ${describeValue(bytes)}`, 0);
  }
  if (isElfObject(bytes)) throw new DecodeError(elfObjectReason, 0);
  const little = isLittleEndian(options);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength;
  if (n % 8 !== 0) {
    throw new DecodeError(
      `${n % 8} trailing bytes: an instruction stream is a multiple of 8 bytes`,
      n - (n % 8),
    );
  }
  for (let at = 0; at < n; at += 8) {
    const op = view.getUint8(at);
    const regs = view.getUint8(at + 1);
    const dst = little ? regs & 0x0f : regs >> 4;
    const src = little ? regs >> 4 : regs & 0x0f;
    const off = view.getInt16(at + 2, little);
    const lo = view.getInt32(at + 4, little);
    let insn: Instruction;
    if (op === LDDW) {
      if (at + 16 > n) throw new DecodeError('lddw is truncated: its second 8-byte slot is missing', at);
      if (
        view.getUint8(at + 8) !== 0 ||
        view.getUint8(at + 9) !== 0 ||
        view.getInt16(at + 10, little) !== 0
      ) {
        throw new DecodeError('second slot of lddw must have opcode, registers and offset 0', at + 8);
      }
      if (out === undefined) insn = refill(op, dst, src, off, 0n);
      else {
        // The signed 64-bit immediate through a scratch view: one bigint, not four.
        immScratch.setInt32(0, lo, true);
        immScratch.setInt32(4, view.getInt32(at + 12, little), true);
        insn = { op, dst, src, off, imm: immScratch.getBigInt64(0, true) };
      }
    } else {
      insn = out === undefined ? refill(op, dst, src, off, lo) : { op, dst, src, off, imm: lo };
    }
    const problem = instructionProblem(insn);
    if (problem !== undefined)
      throw new DecodeError(
        problem[0] === 'op' ? problem[1] : `${problem[1]} (opcode 0x${op.toString(16).padStart(2, '0')})`,
        at,
      );
    out?.push(insn);
    if (op === LDDW) at += 8;
  }
}

function refill(op: number, dst: number, src: number, off: number, imm: number | bigint): Instruction {
  scratch.op = op;
  scratch.dst = dst;
  scratch.src = src;
  scratch.off = off;
  scratch.imm = imm;
  return scratch;
}
