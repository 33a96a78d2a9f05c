/**
 * libbpf as the oracle: each corpus object is loaded by libbpf (through the C harness in
 * @ebpf/test-utils) and parsed by us; the programs, the instructions libbpf submitted (with its
 * map fds put into ours) and the maps the kernel holds must agree.
 */
import { encode, type Instruction, PseudoCall, resolveKfuncs, resolveMaps } from '@ebpf/asm';
import { type Btf, CoreResolver } from '@ebpf/btf';
import { kernelBtf } from '@ebpf/btf/node';
import { requireKernel } from '@ebpf/test-utils';
import { buildObject, readBytes, Scratch, vmlinuxHeader } from '@ebpf/test-utils/clang';
import { libbpfOracle, type OracleReport } from '@ebpf/test-utils/oracle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionSpec } from './collection-spec.ts';
import { applyCoreRelocations } from './relocate/core.ts';
import type { ProgramSpec } from './spec.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());
let vmlinux: string | undefined;
/** The folder of this kernel's vmlinux.h, written once for the CO-RE objects. */
const vmlinuxFolder = (): string => (vmlinux ??= vmlinuxHeader(scratch));

/** Corpus objects libbpf loads here, and the programs it must leave out. */
const corpus: ReadonlyArray<[name: string, noLoad: string[]]> = [
  // CO-RE against this kernel's BTF: parsing, linking and applyCoreRelocations end to end.
  ['core-basics', []],
  ['programs-and-subprograms', []],
  ['maps-of-every-kind', []],
  ['globals-of-every-section', []],
  // The verifier finds typed ksyms in kallsyms, which lists no variables without CONFIG_KALLSYMS_ALL.
  ['externs-kconfig-ksym', ['reads_typed_ksym']],
  ['isa-v4', []],
  ['legacy-packet-loads', []],
];

/** libbpf's slots, with the immediates it fills from the running kernel (kfunc and ksym BTF ids) masked. */
function slotsOf(bytes: Uint8Array, masked: ReadonlySet<number>): string[] {
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    const slot = Buffer.from(bytes.subarray(at, at + 8)).toString('hex');
    out.push(masked.has(at / 8) ? `${slot.slice(0, 8)}........` : slot);
  }
  return out;
}

/** Slots of our instructions whose immediates come from the kernel at load time. */
function kernelFilledSlots(program: ProgramSpec): Set<number> {
  const externs = new Set(program.externReferences.map((r) => r.insn));
  const out = new Set<number>();
  let slot = 0;
  program.instructions.forEach((insn: Instruction, index) => {
    const filled = insn.kfunc !== undefined && insn.src === PseudoCall.KfuncCall;
    if (filled || (externs.has(index) && insn.map === undefined)) {
      out.add(slot);
      if (insn.op === 0x18) out.add(slot + 1);
    }
    slot += insn.op === 0x18 ? 2 : 1;
  });
  return out;
}

/** Ours in the oracle's terms: libbpf reports "no attach type" as 0, which is cgroup_inet_ingress. */
const asLibbpf = (p: ProgramSpec) => ({
  name: p.name,
  section: p.section.replace(/^\?/, ''),
  type: p.type,
  expectedAttachType: p.attachType ?? 'cgroup_inet_ingress',
  autoload: p.autoload,
});

requireKernel('parsed objects against libbpf', () => {
  it('types every SEC() form libbpf 1.1 knows as libbpf does', () => {
    const path = buildObject(scratch, 'sections-of-every-kind', 'bpfel');
    // Most of these cannot load here (kprobes, lockdown, no targets): the types come from libbpf's open.
    const report = libbpfOracle(path);
    const spec = CollectionSpec.parse(readBytes(path));
    const theirs = report.programs.map(({ name, section, type, expectedAttachType, autoload }) => ({
      name,
      section,
      type,
      expectedAttachType,
      autoload,
    }));
    expect(theirs.length).toBeGreaterThan(80);
    expect(Object.values(spec.programs).map(asLibbpf)).toEqual(theirs);
  });

  it('links static functions of a program section as subprograms, as libbpf links them from .text', () => {
    // libbpf refuses static functions in a program section; with the same helpers in .text it
    // loads, and submits what we must submit for the section form.
    const inSection = buildObject(scratch, 'static-subprograms', 'bpfel');
    expect(() => libbpfOracle(inSection)).toThrow(/static and not supported/);
    const report = libbpfOracle(buildObject(scratch, 'static-subprograms-in-text', 'bpfel'));
    expect(report.loaded).toBe(true);
    const spec = CollectionSpec.parse(readBytes(inSection));
    expect(Object.keys(spec.programs).sort()).toEqual(['second_caller', 'static_caller']);
    for (const theirs of report.programs) {
      const ours = spec.programs[theirs.name] as ProgramSpec;
      expect(ours.problem).toBeUndefined();
      expect({ [theirs.name]: slotsOf(encode(ours.instructions), new Set()) }).toEqual({
        [theirs.name]: slotsOf(Buffer.from(theirs.insns.join(''), 'hex'), new Set()),
      });
    }
  });

  describe.each(corpus)('%s', (name, noLoad) => {
    let report: OracleReport;
    let spec: CollectionSpec;
    beforeAll(() => {
      const path = buildObject(scratch, name, 'bpfel', [vmlinuxFolder()]);
      report = libbpfOracle(path, { noLoad });
      spec = CollectionSpec.parse(readBytes(path), { name: report.object });
    });

    it('loads with libbpf', () => {
      expect(report.error).toBeUndefined();
      expect(report.loaded).toBe(true);
    });

    it('has the programs libbpf has, typed alike', () => {
      const ours = Object.values(spec.programs).map(asLibbpf);
      const theirs = report.programs.map(({ name, section, type, expectedAttachType, autoload }) => ({
        name,
        section,
        type,
        expectedAttachType,
        autoload: autoload || noLoad.includes(name),
      }));
      expect(ours).toEqual(expect.arrayContaining(theirs));
      expect(ours).toHaveLength(theirs.length);
    });

    it('links and relocates to the instructions libbpf submitted', () => {
      const fdOf = (map: string): number | undefined =>
        report.maps.find((m) => m.name === spec.maps[map]?.kernelName)?.fd;
      const btf = spec.btf as Btf;
      const resolver = new CoreResolver(btf, [kernelBtf()]);
      const loaded = report.programs.filter((p) => p.loaded);
      expect(loaded.length).toBeGreaterThan(0);
      for (const theirs of loaded) {
        const ours = spec.programs[theirs.name] as ProgramSpec;
        expect(ours.problem).toBeUndefined();
        const masked = kernelFilledSlots(ours);
        // kfunc ids are the kernel's; their slots are masked on both sides.
        const relocated = applyCoreRelocations(ours.instructions, ours.coreRelocations, btf, [kernelBtf()], {
          resolver,
        });
        const bytes = encode(resolveKfuncs(resolveMaps(relocated, fdOf), () => 0));
        expect({ [theirs.name]: slotsOf(bytes, masked) }).toEqual({
          [theirs.name]: slotsOf(Buffer.from(theirs.insns.join(''), 'hex'), masked),
        });
      }
    });

    it('declares the maps the kernel holds for libbpf', () => {
      for (const theirs of report.maps) {
        const ours = Object.values(spec.maps).find((m) => m.kernelName === theirs.name);
        expect(ours, `a map named ${theirs.name}`).toBeDefined();
        const perCpuSlots = ours?.type === 'perf_event_array' && ours.maxEntries === 0;
        expect({
          name: ours?.kernelName,
          type: ours?.type,
          keySize: ours?.keySize,
          valueSize: ours?.valueSize,
          maxEntries: perCpuSlots ? theirs.info?.maxEntries : ours?.maxEntries,
          flags: ours?.flags,
          mapExtra: String(ours?.mapExtra ?? 0n),
        }).toEqual({
          name: theirs.info?.name,
          type: theirs.info?.type,
          keySize: theirs.info?.keySize,
          valueSize: theirs.info?.valueSize,
          maxEntries: theirs.info?.maxEntries,
          flags: theirs.info?.flags,
          mapExtra: theirs.info?.mapExtra,
        });
      }
      // Every map we declare is one libbpf created (inner templates aside).
      expect(Object.keys(spec.maps)).toHaveLength(report.maps.length);
    });
  });
});
