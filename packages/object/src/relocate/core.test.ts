/**
 * applyCoreRelocations on hand-written instructions: which field of which instruction class is
 * patched, width changes of loads, poisoning (an lddw keeps its two slots) and the errors that
 * name the instruction. The BTF is compiled by clang; `core.kernel.test.ts` compares with libbpf.
 */
import { InsnClass, InsnMode, InsnSize, type Instruction } from '@ebpf/asm';
import { Btf, CoreError } from '@ebpf/btf';
import { btfOfSource, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { CoreReloKind as K } from '@ebpf/uapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreRelocation } from '../spec.ts';
import { applyCoreRelocations, CORE_POISON_HELPER, CoreRelocationError } from './core.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());

let local: Btf;
let target: Btf;
beforeAll(() => {
  requireTools(['clang-16', 'llvm-objcopy-16']);
  local = Btf.parse(
    btfOfSource(
      scratch,
      'local',
      'struct s { unsigned short u; short i; int moved; long big; }; struct s g; struct gone { int x; } h;',
    ),
  );
  target = Btf.parse(
    btfOfSource(
      scratch,
      'target',
      'struct s { long pad; unsigned int u; int i; int moved; long big; }; struct s g;',
    ),
  );
});

const ldx = (size: number, off: number): Instruction => ({
  op: InsnClass.Ldx | InsnMode.Mem | size,
  dst: 1,
  src: 2,
  off,
  imm: 0,
});
const movImm = (imm: number): Instruction => ({ op: 0xb7, dst: 1, src: 0, off: 0, imm });
const lddw = (imm: bigint): Instruction => ({ op: 0x18, dst: 1, src: 0, off: 0, imm });
const record = (insn: number, accessString: string, kind: number, type = 's'): CoreRelocation => ({
  insn,
  typeId: local.typeByName(type, 'struct')!.id,
  accessString,
  kind,
});
const apply = (insns: Instruction[], relos: CoreRelocation[]) =>
  applyCoreRelocations(insns, relos, local, [target], { program: 'prog' });

describe('applyCoreRelocations', () => {
  it('moves load offsets and widens unsigned loads to the target field', () => {
    const out = apply(
      [ldx(InsnSize.H, 0), ldx(InsnSize.W, 4)],
      [record(0, '0:0', K.FieldByteOffset), record(1, '0:2', K.FieldByteOffset)],
    );
    expect(out[0]).toMatchObject({ off: 8, op: InsnClass.Ldx | InsnMode.Mem | InsnSize.W });
    expect(out[1]).toMatchObject({ off: 16, op: InsnClass.Ldx | InsnMode.Mem | InsnSize.W });
  });

  it('poisons a load whose signed field changed width', () => {
    const [insn] = apply([ldx(InsnSize.H, 2)], [record(0, '0:1', K.FieldByteOffset)]);
    expect(insn).toMatchObject({ op: 0x85, src: 0, imm: CORE_POISON_HELPER });
  });

  it('patches ALU immediates and lddw immediates, keeping what it does not touch', () => {
    const out = apply(
      [{ ...movImm(16), meta: { line: 3 } }, lddw(8n)],
      [record(0, '0', K.TypeSize), record(1, '0:3', K.FieldByteOffset)],
    );
    expect(out[0]).toMatchObject({ imm: 32, meta: { line: 3 } });
    expect(out[1]).toMatchObject({ op: 0x18, imm: 24n });
  });

  it('poisons an lddw as two calls, so that later instructions keep their slots', () => {
    const out = apply([lddw(0n), movImm(0)], [record(0, '0:0', K.FieldByteOffset, 'gone')]);
    expect(out).toHaveLength(3);
    expect(out.slice(0, 2).map((i) => [i.op, i.imm])).toEqual([
      [0x85, CORE_POISON_HELPER],
      [0x85, CORE_POISON_HELPER],
    ]);
    expect(out[2]).toEqual(movImm(0));
  });

  it("applies a second relocation of one instruction to the first one's result", () => {
    // Both say the compiler put 16 there; after the first, 32 is there: the second cannot validate.
    const twice = [record(0, '0', K.TypeSize), record(0, '0', K.TypeSize)];
    expect(() => apply([movImm(16)], twice)).toThrow(/immediate is 32/);
  });

  it.each([
    [
      'an immediate the BTF does not explain',
      [movImm(5)],
      () => record(0, '0', K.TypeSize),
      /immediate is 5.*disagree/,
    ],
    [
      'an offset the BTF does not explain',
      [ldx(InsnSize.W, 0)],
      () => record(0, '0:2', K.FieldByteOffset),
      /offset is 0/,
    ],
    [
      'an ALU with a register source',
      [{ ...movImm(0), op: 0xbf }],
      () => record(0, '0', K.TypeSize),
      /register source/,
    ],
    [
      'a jump',
      [{ op: 0x05, dst: 0, src: 0, off: 0, imm: 0 }],
      () => record(0, '0', K.TypeSize),
      /no field to patch/,
    ],
    ['an instruction past the end', [movImm(8)], () => record(4, '0', K.TypeSize), /past the program's 1/],
    [
      'a load of the wrong width',
      [ldx(InsnSize.B, 0)],
      () => record(0, '0:0', K.FieldByteOffset),
      /1 bytes wide/,
    ],
  ])('refuses %s, naming the program and instruction', (_, insns, relo, message) => {
    const run = () => apply(insns as Instruction[], [relo()]);
    expect(run).toThrow(CoreRelocationError);
    expect(run).toThrow(/^program prog, instruction #\d+: /);
    expect(run).toThrow(message);
  });

  it('carries the engine error as the cause', () => {
    try {
      apply([movImm(0)], [record(0, '0:9', K.FieldByteOffset)]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CoreRelocationError);
      expect((e as CoreRelocationError).instruction).toBe(0);
      expect((e as Error).cause).toBeInstanceOf(CoreError);
    }
  });
});
