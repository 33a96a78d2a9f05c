/**
 * The builders' rule for r10-relative accesses is the verifier's: an access of width w at
 * r10 + off is accepted when -512 <= off <= -w and off is a multiple of w (the kernel always
 * checks stack alignment strictly). Every width and a spread of offsets are offered to both the
 * builders and the kernel (through raw encodings the builders would refuse), and they must agree.
 */
import { requireKernel } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { bpfRun } from '../test/bpf-run.ts';
import {
  encode,
  exit,
  InsnClass,
  InsnMode,
  InsnSize,
  type Instruction,
  InvalidInstructionError,
  mov64,
  R0,
  R10,
  store,
  storeImm,
} from './index.ts';

const widths = [
  [InsnSize.B, 1],
  [InsnSize.H, 2],
  [InsnSize.W, 4],
  [InsnSize.Dw, 8],
] as const;

const offsetsFor = (w: number) => [
  ...new Set([-512 - w, -513, -512, -512 + 1, -2 * w, -w - 1, -w, -w + 1, -1, 0, w]),
];

/** True when the builder accepts, false when it throws the typed error for `off`. */
function builderAccepts(build: () => Instruction): boolean {
  try {
    build();
    return true;
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInstructionError);
    expect((e as InvalidInstructionError).field).toBe('off');
    return false;
  }
}

function kernelAccepts(access: Instruction): boolean {
  const r = bpfRun(encode([mov64(R0, 0), access, exit()]));
  return r.ok || r.stage !== 'load';
}

requireKernel('r10-relative accesses: builders agree with the verifier', () => {
  describe.each(widths)('width %i', (size, w) => {
    it.each(offsetsFor(w))('store of an immediate at r10%+i', (off) => {
      const raw: Instruction = { op: InsnClass.St | InsnMode.Mem | size, dst: 10, src: 0, off, imm: 0 };
      expect(builderAccepts(() => storeImm(size, R10, off, 0))).toBe(kernelAccepts(raw));
    });
    it.each(offsetsFor(w))('store of a register at r10%+i', (off) => {
      const raw: Instruction = { op: InsnClass.Stx | InsnMode.Mem | size, dst: 10, src: 0, off, imm: 0 };
      expect(builderAccepts(() => store(size, R10, off, R0))).toBe(kernelAccepts(raw));
    });
  });
});
