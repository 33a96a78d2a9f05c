/**
 * The CO-RE oracle: `objects/core-basics.c` (every relocation kind against this kernel's types,
 * local flavours, bitfields, narrowed loads and relocations without a target) is relocated by
 * libbpf (loading it for real) and by our engine, and the instructions must be the same, slot by
 * slot. Only the `lddw`s of global data differ: libbpf puts map fds there, which is not CO-RE.
 */
import { decode, encode, type Instruction } from '@ebpf/asm';
import { Btf, BtfExt, CoreResolver } from '@ebpf/btf';
import { kernelBtf } from '@ebpf/btf/node';
import { requireKernel } from '@ebpf/test-utils';
import { buildObject, readBytes, requireTools, Scratch, vmlinuxHeader } from '@ebpf/test-utils/clang';
import { libbpfOracle, type OracleProgram } from '@ebpf/test-utils/oracle';
import { CoreReloKind, InsnClass } from '@ebpf/uapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfFile } from '../elf/elf.ts';
import type { CoreRelocation } from '../spec.ts';
import { applyCoreRelocations, CORE_POISON_HELPER } from './core.ts';

const scratch = new Scratch();
const paths = new Map<string, string>();
afterAll(() => scratch.dispose());

beforeAll(() => {
  requireTools(['clang-16', 'bpftool', 'gcc']);
  const include = vmlinuxHeader(scratch);
  for (const target of ['bpfel', 'bpfeb'] as const)
    paths.set(target, buildObject(scratch, 'core-basics', target, [include]));
});

interface ObjectProgram {
  name: string;
  instructions: Instruction[];
  relocations: CoreRelocation[];
}

/** Each function of each code section with its CO-RE records from `.BTF.ext`. */
function programs(elf: ElfFile, btf: Btf): ObjectProgram[] {
  const ext = BtfExt.parse(elf.data(elf.section('.BTF.ext')!), { btf });
  const le = elf.littleEndian;
  const byteOrder = le ? 'little' : 'big';
  return elf
    .symbols()
    .filter((s) => s.type === 2 /* STT_FUNC */)
    .map((s) => {
      const section = elf.sections[s.sectionIndex]!;
      const start = Number(s.value);
      const size = Number(s.size);
      const instructions = decode(elf.data(section).subarray(start, start + size), { byteOrder });
      // Record offsets are bytes into the section; our indices count an lddw once.
      const slotToIndex = new Map<number, number>();
      let slot = 0;
      instructions.forEach((insn, index) => {
        slotToIndex.set(slot, index);
        slot += insn.op === 0x18 ? 2 : 1;
      });
      const relocations = ext
        .section(section.name)
        .coreRelo.filter((r) => r.insnOff >= start && r.insnOff < start + size)
        .map((r) => ({
          insn: slotToIndex.get((r.insnOff - start) / 8)!,
          typeId: r.typeId,
          accessString: r.accessString!,
          kind: r.kind,
        }));
      return { name: s.name, instructions, relocations };
    });
}

/** Slots as the oracle prints them, with libbpf's global-data `lddw`s (src != 0) left out. */
function comparableSlots(hex: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < hex.length; i++) {
    const slot = hex[i]!;
    if (slot.startsWith('18') && slot[2] !== '0' && slot[2] !== undefined) {
      out.push('lddw-map', 'lddw-map');
      i++;
    } else out.push(slot);
  }
  return out;
}

function ourSlots(instructions: readonly Instruction[], libbpf: readonly string[]): string[] {
  const hex = Buffer.from(encode(instructions)).toString('hex').match(/.{16}/g) ?? [];
  const mine = comparableSlots(hex);
  // Our lddw of a global still has src 0: mask it where libbpf's slot is a map lddw.
  const theirs = comparableSlots(libbpf);
  return mine.map((slot, i) => (theirs[i] === 'lddw-map' ? 'lddw-map' : slot));
}

requireKernel('CO-RE against libbpf', () => {
  let report: OracleProgram[];
  let ours: ObjectProgram[];
  let relocated: Map<string, Instruction[]>;

  beforeAll(() => {
    const path = paths.get('bpfel')!;
    const oracle = libbpfOracle(path);
    expect(oracle.error).toBeUndefined();
    expect(oracle.loaded).toBe(true);
    report = oracle.programs;
    const elf = ElfFile.parse(readBytes(path));
    const local = Btf.parse(elf.data(elf.section('.BTF')!));
    ours = programs(elf, local);
    // One resolver for the whole object, as libbpf keeps one candidate cache per object.
    const resolver = new CoreResolver(local, [kernelBtf()]);
    relocated = new Map(
      ours.map((p) => [
        p.name,
        applyCoreRelocations(p.instructions, p.relocations, local, [kernelBtf()], {
          resolver,
          program: p.name,
        }),
      ]),
    );
  });

  it('covers every relocation kind', () => {
    const kinds = new Set(ours.flatMap((p) => p.relocations.map((r) => r.kind)));
    expect([...kinds].sort((a, b) => a - b)).toEqual(Object.values(CoreReloKind).sort((a, b) => a - b));
  });

  it.each(['fields', 'bitfields', 'types', 'enums', 'poisoned', 'context', 'more'])(
    'relocates %s as libbpf does, instruction by instruction',
    (name) => {
      const libbpf = report.find((p) => p.name === name)!;
      const mine = relocated.get(name)!;
      expect(ourSlots(mine, libbpf.insns)).toEqual(comparableSlots(libbpf.insns));
    },
  );

  it('changes what the kernel lays out differently and poisons what it lacks', () => {
    const before = ours.find((p) => p.name === 'context')!.instructions;
    const after = relocated.get('context')!;
    // len: u16 at 0 locally, u32 at 0 in the kernel: the load widens to 4 bytes.
    expect(before[0]!.op & 0x18).toBe(0x08);
    expect(after[0]!.op & 0x18).toBe(0x00);
    // mark moves from 4 to 8.
    expect([before[1]!.off, after[1]!.off]).toEqual([4, 8]);
    const poisons = [...relocated.values()].flat().filter((i) => i.imm === CORE_POISON_HELPER);
    expect(poisons.length).toBeGreaterThanOrEqual(3);
    expect(poisons.every((i) => (i.op & 0x07) === InsnClass.Jmp)).toBe(true);
  });
});

describe('a big-endian object', () => {
  it('gets the fixups of the little-endian one, and bitfield shifts that find the same bits', () => {
    const relocate = (target: 'bpfel' | 'bpfeb') => {
      const elf = ElfFile.parse(readBytes(paths.get(target)!));
      const local = Btf.parse(elf.data(elf.section('.BTF')!));
      const resolver = new CoreResolver(local, [kernelBtf()]);
      return programs(elf, local).map((p) => {
        applyCoreRelocations(p.instructions, p.relocations, local, [], { resolver });
        return { ...p, resolver };
      });
    };
    const el = relocate('bpfel');
    const eb = relocate('bpfeb');
    expect(eb.map((p) => p.name)).toEqual(el.map((p) => p.name));
    const K = CoreReloKind;
    // Clang emits the bitfield code (and its relocation count) differently per byte order, so
    // compare what each distinct relocation resolves to.
    const outcomes = (programs: typeof el) =>
      new Map(
        programs.flatMap((p) =>
          p.relocations
            .filter((r) => r.kind !== K.FieldLshiftU64)
            .map((r) => {
              const f = p.resolver.fixup(r);
              return [
                `${r.kind} ${p.resolver.local.nameOf(r.typeId)} ${r.accessString}`,
                [f.poison, f.target],
              ];
            }),
        ),
      );
    expect(outcomes(eb)).toEqual(outcomes(el));
    for (const big of eb) {
      for (const r of big.relocations.filter((r) => r.kind === K.FieldLshiftU64)) {
        // Big-endian bitfields sit elsewhere in their storage (and this kernel is little-endian),
        // so check the local side: clang may pick a narrower load, but the bit its offset, size
        // and shift point at must be the one ours point at.
        const sibling = (kind: number) =>
          big.relocations.find(
            (o) => o.kind === kind && o.typeId === r.typeId && o.accessString === r.accessString,
          )!;
        const bit = (offset: number | bigint, size: number | bigint, shift: number | bigint) =>
          Number(offset) * 8 + Number(shift) - (8 - Number(size)) * 8;
        const clang = (kind: number) => big.instructions[sibling(kind).insn]!.imm;
        const ours = (kind: number) => big.resolver.fixup(sibling(kind)).local;
        expect(bit(ours(K.FieldByteOffset), ours(K.FieldByteSize), ours(K.FieldLshiftU64))).toBe(
          bit(clang(K.FieldByteOffset), clang(K.FieldByteSize), clang(K.FieldLshiftU64)),
        );
      }
    }
  });
});
