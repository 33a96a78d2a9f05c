import { disassemble, encode, encodedLength, encodeInto, type Instruction, PseudoSrc } from '@ebpf/asm';
import { BtfExt } from '@ebpf/btf';
import { buildObject, readBytes, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { MapFlags } from '@ebpf/uapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectionSpec } from './collection-spec.ts';
import { ElfFile } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import { BytecodeCopies, programBytecode } from './program-code.ts';
import type { MapSpec, ProgramSpec } from './spec.ts';

const scratch = new Scratch();
const built = new Map<string, Uint8Array>();
const targets = ['bpfel', 'bpfeb'] as const;
const names = [
  'programs-and-subprograms',
  'maps-of-every-kind',
  'globals-of-every-section',
  'externs-kconfig-ksym',
  'isa-v4',
  'legacy-packet-loads',
  'legacy-maps',
  'cross-section-calls',
  'per-program-problems',
  'map-with-conflicting-sizes',
  'btf-ext',
  'usdt-helpers',
];

// Builds every object with clang in both byte orders: slow on a loaded machine.
beforeAll(() => {
  requireTools();
  for (const name of names)
    for (const target of targets)
      built.set(`${name}.${target}`, readBytes(buildObject(scratch, name, target)));
}, 120_000);
afterAll(() => scratch.dispose());

const bytesOf = (name: string, target: string): Uint8Array => built.get(`${name}.${target}`) as Uint8Array;
const parse = (name: string, target: string): CollectionSpec =>
  CollectionSpec.parse(bytesOf(name, target), { name: name.slice(0, 15) });
const program = (spec: CollectionSpec, name: string): ProgramSpec => spec.programs[name] as ProgramSpec;
const map = (spec: CollectionSpec, name: string): MapSpec => spec.maps[name] as MapSpec;

describe.each(targets)('objects built for %s', (target) => {
  const little = target === 'bpfel';

  it('reads the programs of every section, typed by their SEC() names, with license and byte order', () => {
    const spec = parse('programs-and-subprograms', target);
    expect(spec.byteOrder).toBe(little ? 'little' : 'big');
    expect(spec.name).toBe('programs-and-su');
    const summary = Object.values(spec.programs).map((p) => [
      p.name,
      p.section,
      p.type,
      p.attachType,
      p.autoload,
    ]);
    expect(summary).toEqual([
      ['first_xdp', 'xdp', 'xdp', 'xdp', true],
      ['second_xdp', 'xdp', 'xdp', 'xdp', true],
      ['socket_calls_all', 'socket', 'socket_filter', undefined, true],
      ['not_autoloaded', '?tc', 'sched_cls', undefined, false],
    ]);
    for (const p of Object.values(spec.programs)) {
      expect(p.license).toBe('Dual MIT/GPL');
      expect(p.kernelVersion).toBe(0);
      expect(p.problem).toBeUndefined();
    }
  });

  it('appends each callee once, callbacks included, with func_info following every function', () => {
    const spec = parse('programs-and-subprograms', target);
    const btf = spec.btf;
    const funcs = (p: ProgramSpec) => p.funcInfo.map((f) => [f.insn, btf?.typeById(f.typeId).name]);
    // libbpf's order: callees in the order their first call is met, each one's own callees right after.
    expect(funcs(program(spec, 'first_xdp'))).toEqual([
      [0, 'first_xdp'],
      [12, 'bump'],
      [21, 'add_three'],
      [26, 'double_it'],
    ]);
    const second = program(spec, 'second_xdp');
    expect(funcs(second).map((f) => f[1])).toEqual(['second_xdp', 'count_step', 'bump', 'global_square']);
    // The callback address (BPF_PSEUDO_FUNC) is a slot delta to count_step.
    const loop = second.instructions.findIndex((i) => i.op === 0x18 && i.src === PseudoSrc.Func);
    const countStep = second.funcInfo[1]?.insn as number;
    expect(Number(BigInt.asIntN(32, second.instructions[loop]?.imm as bigint))).toBe(
      slotOf(second.instructions, countStep) - slotOf(second.instructions, loop) - 1,
    );
    // Every call lands on the first instruction of a function of the program.
    for (const p of Object.values(spec.programs)) {
      const starts = new Set(p.funcInfo.map((f) => slotOf(p.instructions, f.insn)));
      p.instructions.forEach((insn, index) => {
        if (insn.op === 0x85 && insn.src === 1)
          expect(starts.has(slotOf(p.instructions, index) + (insn.imm as number) + 1)).toBe(true);
      });
      expect(p.lineInfo[0]?.insn).toBe(0);
      expect(p.lineInfo.map((l) => l.insn)).toEqual([...p.lineInfo.map((l) => l.insn)].sort((a, b) => a - b));
    }
  });

  it('makes map references symbolic: BPF_PSEUDO_MAP_FD with the map name', () => {
    const spec = parse('programs-and-subprograms', target);
    const refs = program(spec, 'first_xdp').instructions.filter((i) => i.map !== undefined);
    expect(refs).toEqual([expect.objectContaining({ op: 0x18, src: PseudoSrc.MapFd, imm: 0n, map: 'hits' })]);
  });

  it('reads BTF maps of every kind with initialisers and inner templates', () => {
    const spec = parse('maps-of-every-kind', target);
    const shape = (m: MapSpec) => [m.type, m.keySize, m.valueSize, m.maxEntries, m.flags, m.pinning];
    expect(shape(map(spec, 'by_pair'))).toEqual(['hash', 8, 8, 128, MapFlags.NoPrealloc, 'none']);
    expect(map(spec, 'by_pair').keyType?.name).toBe('pair');
    expect(shape(map(spec, 'sized_only'))).toEqual(['array', 4, 16, 2, 0, 'none']);
    expect(map(spec, 'sized_only').keyType).toBeUndefined();
    expect(shape(map(spec, 'per_cpu_counts'))).toEqual(['percpu_array', 4, 8, 3, 0, 'none']);
    expect(shape(map(spec, 'recent_lru'))).toEqual(['lru_hash', 4, 4, 64, 0, 'by_name']);
    expect(shape(map(spec, 'recent_per_cpu'))).toEqual(['lru_percpu_hash', 8, 4, 32, 0, 'none']);
    expect(shape(map(spec, 'events'))).toEqual(['ringbuf', 0, 0, 4096, 0, 'none']);
    expect(shape(map(spec, 'perf_events'))).toEqual(['perf_event_array', 4, 4, 0, 0, 'none']);
    expect(map(spec, 'seen').mapExtra).toBe(3n);
    expect(map(spec, 'outer_array').contents).toEqual([
      { key: 0, map: 'inner_one' },
      { key: 2, map: 'inner_two' },
    ]);
    expect(shape(map(spec, 'outer_array').innerMap as MapSpec)).toEqual(['array', 4, 4, 1, 0, 'none']);
    expect(shape(map(spec, 'outer_hash').innerMap as MapSpec)).toEqual(['hash', 4, 8, 2, 0, 'none']);
    expect(map(spec, 'outer_hash').contents).toEqual([]);
    expect(map(spec, 'jump_table').contents).toEqual([{ key: 1, program: 'tail_target' }]);
    expect(shape(map(spec, 'jump_table'))).toEqual(['prog_array', 4, 4, 2, 0, 'none']);
  });

  it('reads legacy struct bpf_map_def maps and the version section', () => {
    const spec = parse('legacy-maps', target);
    expect(map(spec, 'legacy_hash')).toMatchObject({
      type: 'hash',
      keySize: 4,
      valueSize: 8,
      maxEntries: 16,
      flags: 1,
    });
    expect(map(spec, 'legacy_array')).toMatchObject({
      type: 'array',
      keySize: 4,
      valueSize: 4,
      maxEntries: 2,
    });
    expect(
      program(spec, 'uses_legacy_maps')
        .instructions.filter((i) => i.map)
        .map((i) => i.map),
    ).toEqual(['legacy_hash', 'legacy_array']);
  });

  it('turns every global data section into a one-element array map named as libbpf names it', () => {
    const spec = parse('globals-of-every-section', target);
    const globals = Object.values(spec.maps).map((m) => [
      m.name,
      m.kernelName,
      m.valueSize,
      m.flags,
      m.readOnly,
    ]);
    const mmap = MapFlags.Mmapable;
    expect(globals).toEqual([
      ['.data', 'globals_.data', 4, mmap, false],
      ['.rodata', 'globals_.rodata', 18, mmap | MapFlags.RdonlyProg, true],
      ['.data.scratch', '.data.scratch', 12, mmap, false],
      ['.rodata.strings', '.rodata.strings', 6, mmap | MapFlags.RdonlyProg, true],
      // String literals: no DATASEC, so no variables and (as in libbpf) not mmapable.
      ['.rodata.str1.1', '.rodata.str1.1', 11, MapFlags.RdonlyProg, true],
      ['.bss', 'globals_.bss', 16, mmap, false],
    ]);
    expect(map(spec, '.bss').data).toEqual(new Uint8Array(16));
    expect(map(spec, '.data.scratch').data?.subarray(0, 4)).toEqual(new Uint8Array([1, 2, 3, 0]));
    const offsets = program(spec, 'reads_globals')
      .instructions.filter((i) => i.map !== undefined)
      .map((i) => [i.map, i.src, Number(BigInt.asIntN(32, (i.imm as bigint) >> 32n))]);
    expect(offsets).toContainEqual(['.rodata', PseudoSrc.MapValue, 4]); // offset_by
    expect(offsets).toContainEqual(['.bss', PseudoSrc.MapValue, 8]); // static_bss
  });

  it('gives variables typed get() and set() over the initial bytes', () => {
    const spec = parse('globals-of-every-section', target);
    const v = spec.variables;
    expect([
      v.counter?.get(),
      v.threshold?.get(),
      v.offset_by?.get(),
      v.enabled?.get(),
      v.total?.get(),
    ]).toEqual([5, 10, -3, true, 0n]);
    expect(v.offset_by).toMatchObject({ section: '.rodata', offset: 4, size: 2 });
    expect(v.greeting?.get()).toEqual(new Uint8Array([...'hello'].map((c) => c.charCodeAt(0)).concat(0)));
    v.threshold?.set(4000);
    v.offset_by?.set(-200);
    v.total?.set(1n << 40n);
    v.enabled?.set(false);
    expect([v.threshold?.get(), v.offset_by?.get(), v.total?.get(), v.enabled?.get()]).toEqual([
      4000,
      -200,
      1n << 40n,
      false,
    ]);
    const rodata = map(spec, '.rodata').data as Uint8Array;
    expect(new DataView(rodata.buffer, rodata.byteOffset).getUint32(0, little)).toBe(4000);
    expect(() => v.threshold?.set(-1)).toThrow(/threshold: takes an unsigned 32-bit integer/);
    expect(() => v.offset_by?.set(40000)).toThrow(ObjectError);
    expect(() => v.greeting?.set(new Uint8Array(5))).toThrow(/takes exactly 6 bytes, got 5/);
    expect(() => v.greeting?.set('hi')).toThrow(/set it with a Uint8Array of 6 bytes/);
  });

  it("lists hidden functions (usdt.bpf.h's __weak __hidden helpers), which load as static", () => {
    expect([...parse('usdt-helpers', target).hiddenFunctions].sort()).toEqual([
      'bpf_usdt_arg',
      'bpf_usdt_arg_cnt',
      'bpf_usdt_cookie',
    ]);
    expect(parse('programs-and-subprograms', target).hiddenFunctions.size).toBe(0);
  });

  it('reads .kconfig and .ksyms externs, laid out and referenced as libbpf does', () => {
    const spec = parse('externs-kconfig-ksym', target);
    const externs = Object.values(spec.externs).map((e) => [e.name, e.kind, e.weak, e.offset]);
    expect(externs).toEqual(
      expect.arrayContaining([
        // By alignment (descending), size, then name: libbpf's order.
        ['CONFIG_HZ', 'kconfig', true, 0],
        ['LINUX_KERNEL_VERSION', 'kconfig', false, 4],
        ['CONFIG_DEFAULT_HOSTNAME', 'kconfig', true, 10],
        ['CONFIG_BPF_SYSCALL', 'kconfig', false, 8],
        ['CONFIG_NOT_A_REAL_OPTION', 'kconfig', true, 9],
        ['bpf_prog_active', 'ksym', false, undefined],
        ['not_a_kernel_symbol', 'ksym', true, undefined],
        ['bpf_rcu_read_lock', 'ksym', false, undefined],
      ]),
    );
    expect(spec.externs.bpf_rcu_read_lock?.type.kind).toBe('func_proto');
    expect(map(spec, '.kconfig')).toMatchObject({
      valueSize: 18,
      readOnly: true,
      kernelName: 'externs.kconfig',
    });
    const code = program(spec, 'reads_kconfig');
    expect(code.instructions.filter((i) => i.kfunc).map((i) => i.kfunc)).toEqual([
      'bpf_rcu_read_lock',
      'bpf_rcu_read_unlock',
    ]);
    expect(code.externReferences.map((r) => r.name)).toContain('not_a_kernel_symbol');
    const hz = code.externReferences.find((r) => r.name === 'CONFIG_HZ')?.insn as number;
    expect(code.instructions[hz]).toMatchObject({ map: '.kconfig', src: PseudoSrc.MapValue });
    expect(program(spec, 'reads_typed_ksym').externReferences.map((r) => r.name)).toEqual([
      'bpf_prog_active',
    ]);
  });

  it('decodes ISA v4 instructions', () => {
    const text = disassemble(program(parse('isa-v4', target), 'uses_isa_v4').instructions as Instruction[]);
    for (const form of ['(s8)', 's/=', 's%=', 'bswap64', 'gotol', '(s16 *)']) expect(text).toContain(form);
  });

  it('decodes legacy packet loads (LD_ABS, LD_IND)', () => {
    const text = disassemble(
      program(parse('legacy-packet-loads', target), 'reads_packet_bytes').instructions as Instruction[],
    );
    expect(text).toContain('r0 = *(u8 *)skb[0xe]');
    expect(text).toMatch(/r0 = \*\(u32 \*\)skb\[r\d\]/);
  });

  it('links calls into other sections and to static functions of the same section', () => {
    const spec = parse('cross-section-calls', target);
    const caller = program(spec, 'caller_program');
    expect(caller.problem).toBeUndefined();
    expect(caller.funcInfo.map((f) => spec.btf?.typeById(f.typeId).name)).toEqual([
      'caller_program',
      'callee_program',
      'same_section_helper',
    ]);
  });

  it('carries CO-RE relocations remapped to the linked instructions', () => {
    const spec = parse('btf-ext', target);
    const read = program(spec, 'read_task');
    const elf = ElfFile.parse(bytesOf('btf-ext', target));
    const ext = BtfExt.parse(elf.data(elf.section('.BTF.ext') as never), { btf: spec.btf as never });
    const records = ext.section('tracepoint/syscalls/sys_enter_getpid').coreRelo;
    expect(read.coreRelocations.map((r) => [r.kind, r.accessString])).toEqual(
      records.map((r) => [r.kind, r.accessString]),
    );
    // Each relocation points at the same instruction bytes as its record's offset in the section.
    const section = elf.data(elf.section('tracepoint/syscalls/sys_enter_getpid') as never);
    const encoded = encode(
      read.instructions.map((i) => ({ ...i, map: undefined, kfunc: undefined })) as never,
      {
        byteOrder: little ? 'little' : 'big',
      },
    );
    read.coreRelocations.forEach((r, i) => {
      const at = slotOf(read.instructions, r.insn) * 8;
      const off = records[i]?.insnOff as number;
      expect(encoded.subarray(at, at + 8)).toEqual(section.subarray(off, off + 8));
    });
  });

  it('records problems on the programs they concern; the others stay usable', () => {
    const spec = parse('per-program-problems', target);
    expect(program(spec, 'good_program').problem).toBeUndefined();
    expect(program(spec, 'in_unknown_section').problem?.message).toMatch(
      /section not_a_program_type, program in_unknown_section: is not a program section libbpf knows/,
    );
    const extern = program(spec, 'uses_undeclared_extern').problem;
    expect(extern).toBeInstanceOf(ObjectError);
    expect(extern?.message).toMatch(
      /program uses_undeclared_extern, instruction 0: refers to 'undeclared_extern'/,
    );
  });

  it('records a relocation against a symbol that does not exist on its program only', () => {
    const bytes = bytesOf('programs-and-subprograms', target).slice();
    const elf = ElfFile.parse(bytes);
    const rel = elf.section('.relsocket');
    const first = elf.relocations(rel as never)[0];
    expect(first).toBeDefined();
    // r_info's upper half is the symbol index: point it past the symbol table.
    new DataView(bytes.buffer).setUint32((rel?.offset as number) + 8 + (little ? 4 : 0), 0xfffff, little);
    const spec = CollectionSpec.parse(bytes, { name: 'patched' });
    expect(program(spec, 'socket_calls_all').problem?.message).toMatch(
      /object patched, section socket, program socket_calls_all, instruction \d+: relocation against symbol #1048575, which does not exist/,
    );
    expect(program(spec, 'first_xdp').problem).toBeUndefined();
  });

  it('refuses a map with contradictory fields, naming the map and field', () => {
    expect(() => parse('map-with-conflicting-sizes', target)).toThrow(
      /object map-with-confli, section \.maps: map conflicting: key: is 4 bytes but the map also says 8/,
    );
  });
});

describe('both byte orders', () => {
  // usdt.bpf.h has code of its own for big-endian targets (it shifts what it reads).
  const alike = names.filter((n) => n !== 'map-with-conflicting-sizes' && n !== 'usdt-helpers');
  it.each(alike)('read %s alike', (name) => {
    const [el, eb] = targets.map((target) => parse(name, target));
    // clang's code may differ by byte order (constants, bitfield reads and their CO-RE
    // relocations), so compare what it refers to.
    const programs = (spec: CollectionSpec) =>
      Object.values(spec.programs).map((p) => ({
        ...p,
        instructions: p.instructions.filter((i) => i.map ?? i.kfunc).map((i) => i.map ?? i.kfunc),
        funcInfo: p.funcInfo.map((f) => f.typeId),
        lineInfo: p.lineInfo.length,
        coreRelocations: undefined,
        externReferences: p.externReferences.map((r) => r.name),
        problem: p.problem?.message,
      }));
    expect(programs(eb as CollectionSpec)).toEqual(programs(el as CollectionSpec));
    const maps = (spec: CollectionSpec) =>
      Object.values(spec.maps).map(({ data, keyType, valueType, innerMap, ...m }) => ({
        ...m,
        dataLength: data?.length,
        keyType: keyType?.id,
        valueType: valueType?.id,
        innerMap: innerMap?.type,
      }));
    expect(maps(eb as CollectionSpec)).toEqual(maps(el as CollectionSpec));
    const variables = (spec: CollectionSpec) =>
      Object.values(spec.variables).map((v) => [v.name, v.offset, v.get()]);
    expect(variables(eb as CollectionSpec)).toEqual(variables(el as CollectionSpec));
  });
});

describe('programBytecode: the linked bytes a parsed program loads with', () => {
  // Made-up fds, one per map: the bytes must be what encoding the instructions with them gives.
  const fdsOf = (spec: CollectionSpec) => {
    const fds = new Map(Object.keys(spec.maps).map((name, i) => [name, 100 + i]));
    return (name: string) => fds.get(name);
  };
  it.each(names.filter((n) => n !== 'map-with-conflicting-sizes'))(
    '%s: equal to its instructions encoded with the same map fds',
    (name) => {
      const spec = parse(name, 'bpfel');
      for (const p of Object.values(spec.programs)) {
        const code = programBytecode(p, fdsOf(spec));
        const byInstructions = p.coreRelocations.length === 0 && p.externReferences.length === 0;
        if (!byInstructions || p.instructions.some((insn) => insn.kfunc !== undefined)) {
          expect(code, p.name).toBeUndefined();
          continue;
        }
        const encoded = new Uint8Array(encodedLength(p.instructions));
        encodeInto(p.instructions, encoded, 0, { mapFd: (map) => fdsOf(spec)(map) as number });
        expect(code?.bytecode, p.name).toEqual(encoded);
        expect([...(code?.slots ?? [])], p.name).toEqual(
          Array.from({ length: p.instructions.length + 1 }, (_, i) => slotOf(p.instructions, i)),
        );
        // The kernel records: each of funcInfo and lineInfo, its instruction index as a slot.
        const u32s = (bytes: Uint8Array | undefined) =>
          Array.from(new Uint32Array(new Uint8Array(bytes ?? []).buffer));
        const slot = (insn: number) => slotOf(p.instructions, insn);
        expect(u32s(code?.funcInfo), p.name).toEqual(p.funcInfo.flatMap((f) => [slot(f.insn), f.typeId]));
        expect(u32s(code?.lineInfo), p.name).toEqual(
          p.lineInfo.flatMap((l) => [
            slot(l.insn),
            l.fileNameOff,
            l.lineOff,
            ((l.line << 10) | l.column) >>> 0,
          ]),
        );
      }
    },
  );

  it('with BytecodeCopies, the programs of a load share one copy, each its own part of it', () => {
    const spec = parse('programs-and-subprograms', 'bpfel');
    const fds = fdsOf(spec);
    const copies = new BytecodeCopies();
    const programs = Object.values(spec.programs);
    const shared = programs.map((p) => programBytecode(p, fds, copies)?.bytecode as Uint8Array);
    expect(new Set(shared.map((bytes) => bytes.buffer)).size).toBe(1);
    for (const [i, bytes] of shared.entries())
      expect(bytes).toEqual(programBytecode(programs[i] as ProgramSpec, fds)?.bytecode);
    expect(programBytecode(programs[0] as ProgramSpec, fds, new BytecodeCopies())?.bytecode.buffer).not.toBe(
      shared[0]?.buffer,
    );
  });

  it('funcInfo and lineInfo are decoded once, on first read, and frozen', () => {
    const p = Object.values(parse('programs-and-subprograms', 'bpfel').programs)[0] as ProgramSpec;
    expect(p.lineInfo.length).toBeGreaterThan(0);
    expect(p.funcInfo).toBe(p.funcInfo);
    expect(p.lineInfo).toBe(p.lineInfo);
    expect(Object.isFrozen(p.lineInfo) && Object.isFrozen(p.lineInfo[0])).toBe(true);
    expect({ ...p }.funcInfo).toEqual(p.funcInfo);
  });

  it('is a copy each time; a copy of the spec, or a map without an fd, has none', () => {
    const spec = parse('programs-and-subprograms', 'bpfel');
    const p = Object.values(spec.programs)[0] as ProgramSpec;
    const fds = fdsOf(spec);
    const first = programBytecode(p, fds)?.bytecode;
    expect(first).toBeDefined();
    expect(programBytecode(p, fds)?.bytecode).not.toBe(first);
    const copy = { ...p };
    expect(copy.instructions).toEqual(p.instructions);
    expect(programBytecode(copy, fds)).toBeUndefined();
    if (p.instructions.some((insn) => insn.map !== undefined))
      expect(programBytecode(p, () => undefined)).toBeUndefined();
  });

  it("leaves the caller's bytes as they were, a Buffer's too (whose slice() shares memory)", () => {
    for (const name of ['programs-and-subprograms', 'globals-of-every-section']) {
      const bytes = Buffer.from(bytesOf(name, 'bpfel'));
      const before = Uint8Array.from(bytes);
      const spec = CollectionSpec.parse(bytes, { name: 'untouched' });
      for (const p of Object.values(spec.programs)) void [p.instructions, programBytecode(p, fdsOf(spec))];
      for (const v of Object.values(spec.variables)) if (v.size === 4 && v.type.kind === 'int') v.set(7);
      expect(Uint8Array.from(bytes), name).toEqual(before);
    }
  });

  it('instructions are decoded once, on first read, and frozen', () => {
    const p = Object.values(parse('programs-and-subprograms', 'bpfel').programs)[0] as ProgramSpec;
    expect(Object.keys(p)).toContain('instructions');
    expect(p.instructions).toBe(p.instructions);
    expect(Object.isFrozen(p.instructions)).toBe(true);
    expect(Object.isFrozen(p.instructions[0])).toBe(true);
  });
});

describe('CollectionSpec.parse refuses what is not a BPF object', () => {
  it.each([
    ['an empty buffer', new Uint8Array(0), /not an ELF file/],
    ['a truncated object', () => bytesOf('programs-and-subprograms', 'bpfel').subarray(0, 200), /truncated/],
    ['an x86 object', () => elfHeader(62), /not a BPF relocatable object/],
  ])('%s', (_, input, message) => {
    const bytes = typeof input === 'function' ? input() : input;
    expect(() => CollectionSpec.parse(bytes, { name: 'bad' })).toThrow(ObjectError);
    expect(() => CollectionSpec.parse(bytes, { name: 'bad' })).toThrow(message);
  });
});

/** The slot of instruction `index` (lddw takes two). */
function slotOf(instructions: readonly Instruction[], index: number): number {
  let slot = 0;
  for (let i = 0; i < index; i++) slot += instructions[i]?.op === 0x18 ? 2 : 1;
  return slot;
}

/** A 64-byte little-endian ELF64 relocatable header with no sections, for machine `machine`. */
function elfHeader(machine: number): Uint8Array {
  const bytes = new Uint8Array(64);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  const view = new DataView(bytes.buffer);
  view.setUint16(16, 1, true);
  view.setUint16(18, machine, true);
  view.setUint16(58, 64, true);
  return bytes;
}
