import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLANG, READELF, readelf, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { CoreReloKind } from '@ebpf/uapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OBJCOPY, objectCorpus } from '../fuzz/corpus.ts';
import { fuzzBtfExt } from '../fuzz/fuzz.ts';
import { BtfError, BtfExt, type ExtSection } from './index.ts';

const OBJDUMP = 'llvm-objdump-16';
const SOURCE = new URL('../../../tools/test-utils/objects/btf-ext.c', import.meta.url).pathname;
const PROGRAMS = ['.text', 'tracepoint/syscalls/sys_enter_getpid', 'xdp'];

const scratch = new Scratch();
const built = new Map<string, ReturnType<typeof objectCorpus>>();

beforeAll(() => {
  requireTools([CLANG, READELF, OBJCOPY, OBJDUMP]);
  for (const target of ['bpfel', 'bpfeb'] as const) built.set(target, objectCorpus(scratch, target));
});
afterAll(() => scratch.dispose());

/** llvm-objdump's line per instruction index, per section, from the DWARF line table. */
function dwarfLines(path: string): Map<string, Map<number, number>> {
  const sections = new Map<string, Map<number, number>>();
  let lines = new Map<number, number>();
  let line = 0;
  for (const text of execFileSync(OBJDUMP, ['-d', '-l', '--no-show-raw-insn', path], {
    encoding: 'utf8',
  }).split('\n')) {
    const section = /^Disassembly of section (.*):$/.exec(text);
    const position = /^; \S*btf-ext\.c:(\d+)/.exec(text);
    const insn = /^\s+(\d+):\t/.exec(text);
    if (section) {
      lines = new Map();
      sections.set(section[1]!, lines);
    } else if (position) line = Number(position[1]);
    else if (insn) lines.set(Number(insn[1]), line);
  }
  return sections;
}

/** Function symbols by section name and byte offset, from llvm-readelf. */
function functionSymbols(path: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of readelf(path, '-S').matchAll(/^\s*\[\s*(\d+)\]\s(\S+)/gm)) names.set(m[1]!, m[2]!);
  const symbols = new Map<string, string>();
  for (const m of readelf(path, '--symbols').matchAll(
    /^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+FUNC\s+\w+\s+\w+\s+(\d+)\s+(\S+)$/gm,
  ))
    symbols.set(`${names.get(m[2]!)}@${Number.parseInt(m[1]!, 16)}`, m[3]!);
  return symbols;
}

const names = <R>(table: readonly ExtSection<R>[]): (string | undefined)[] => table.map((s) => s.name).sort();

describe.each(['bpfel', 'bpfeb'])('.BTF.ext of a clang object (%s)', (target) => {
  const object = () => built.get(target)!;
  const parse = () => BtfExt.parse(object().ext, { btf: object().btf });

  it('takes the byte order of its .BTF and refuses another', () => {
    expect(parse().littleEndian).toBe(target === 'bpfel');
    expect(BtfExt.parse(object().ext).littleEndian).toBe(target === 'bpfel');
    expect(() => BtfExt.parse(object().ext, { littleEndian: target !== 'bpfel' })).toThrow(
      /endian, its object is not/,
    );
  });

  it('gives each function the BTF Func of the symbol at its offset', () => {
    const ext = parse();
    expect(names(ext.funcInfo)).toEqual(PROGRAMS);
    const symbols = functionSymbols(object().path);
    let n = 0;
    for (const section of ext.funcInfo)
      for (const { insnOff, typeId } of section.records) {
        const func = object().btf.typeById(typeId);
        expect(func.kind).toBe('func');
        expect(symbols.get(`${section.name}@${insnOff}`)).toBe(func.name);
        n++;
      }
    expect(n).toBe(3);
  });

  it('gives the source lines llvm-objdump reads from DWARF, and their text', () => {
    const { btf, path } = object();
    const ext = parse();
    expect(names(ext.lineInfo)).toEqual(PROGRAMS);
    const dwarf = dwarfLines(path);
    const source = readFileSync(SOURCE, 'utf8').split('\n');
    let checked = 0;
    for (const section of ext.lineInfo)
      for (const r of section.records) {
        expect(btf.str(r.fileNameOff, -1)).toMatch(/btf-ext\.c$/);
        if (r.line === 0) continue;
        expect(dwarf.get(section.name!)?.get(r.insnOff / 8)).toBe(r.line);
        expect(btf.str(r.lineOff, -1)).toBe(source[r.line - 1]);
        expect(source[r.line - 1]!.length).toBeGreaterThanOrEqual(r.column - 1);
        checked++;
      }
    expect(checked).toBeGreaterThan(10);
  });

  it('reads the CO-RE relocations the source asks for, with their access strings', () => {
    const { btf } = object();
    const ext = parse();
    expect(names(ext.coreRelo)).toEqual(['tracepoint/syscalls/sys_enter_getpid']);
    const relos = ext.section('tracepoint/syscalls/sys_enter_getpid').coreRelo.map((r) => ({
      type: btf.nameOf(r.typeId),
      access: r.accessString,
      kind: r.kind,
    }));
    const K = CoreReloKind;
    // BPF_CORE_READ(task, parent, tgid): parent is member 3, tgid member 1.
    expect(relos).toContainEqual({ type: 'struct task_struct', access: '0:3', kind: K.FieldByteOffset });
    expect(relos).toContainEqual({ type: 'struct task_struct', access: '0:1', kind: K.FieldByteOffset });
    expect(relos).toContainEqual({ type: 'struct task_struct___old', access: '0:0', kind: K.FieldExists });
    expect(relos).toContainEqual({ type: 'struct task_struct', access: '0', kind: K.TypeSize });
    expect(relos).toContainEqual({ type: 'enum pid_type', access: '1', kind: K.EnumvalValue });
    for (const kind of [K.FieldByteSize, K.FieldSigned, K.FieldLshiftU64, K.FieldRshiftU64])
      expect(relos).toContainEqual({ type: 'struct task_struct', access: '0:2', kind });
    expect(ext.section('xdp')).toEqual({
      funcInfo: [expect.anything()],
      lineInfo: expect.any(Array),
      coreRelo: [],
    });
  });

  it('leaves names and access strings undefined without the .BTF', () => {
    const ext = BtfExt.parse(object().ext);
    expect(ext.funcInfo.map((s) => s.name)).toEqual([undefined, undefined, undefined]);
    expect(ext.coreRelo[0]!.records[0]!.accessString).toBeUndefined();
    expect(ext.section('xdp').funcInfo).toEqual([]);
  });
});

/** A `.BTF.ext` with one table, `records` (u32 words each) in section `nameOff`, and `hdrLen`. */
function ext(
  table: 'func' | 'line' | 'core',
  recordSize: number,
  records: number[][],
  hdrLen = 32,
): Uint8Array {
  const words = [
    recordSize,
    1,
    records.length,
    ...records.flatMap((r) => [...r, ...new Array(recordSize / 4 - r.length).fill(0)]),
  ];
  const out = new Uint8Array(hdrLen + words.length * 4);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, true);
  v.setUint8(2, 1);
  v.setUint32(4, hdrLen, true);
  const pair = { func: 8, line: 16, core: 24 }[table];
  v.setUint32(pair + 4, words.length * 4, true);
  for (const [i, w] of words.entries()) v.setUint32(hdrLen + i * 4, w, true);
  return out;
}

describe('BtfExt.parse on hand-made input', () => {
  it('reads records longer than it knows, and a header without CO-RE', () => {
    const e = BtfExt.parse(ext('line', 24, [[8, 1, 2, (7 << 10) | 5, 0xdead, 0xbeef]]));
    expect(e.lineInfo).toEqual([
      {
        name: undefined,
        nameOff: 1,
        records: [{ insnOff: 8, fileNameOff: 1, lineOff: 2, line: 7, column: 5 }],
      },
    ]);
    expect(BtfExt.parse(ext('func', 8, [[0, 1]], 24)).funcInfo[0]!.records).toEqual([
      { insnOff: 0, typeId: 1 },
    ]);
  });

  it('names the offset of what is wrong', () => {
    const bad = (bytes: Uint8Array, what: RegExp): void => {
      expect(() => BtfExt.parse(bytes)).toThrow(BtfError);
      expect(() => BtfExt.parse(bytes)).toThrow(what);
    };
    bad(new Uint8Array(10), /too few/);
    bad(ext('func', 4, [[0]]), /byte 32: .*records of 4 bytes/);
    bad(ext('func', 8, []), /byte 40: .*has no records/);
    bad(ext('core', 16, [[0, 1, 0, 99]]), /byte 56: unknown CO-RE relocation kind 99/);
    const long = ext('func', 8, [[0, 1]]);
    new DataView(long.buffer).setUint32(40, 1000, true);
    bad(long, /byte 40: 1000 .*records run past/);
    const past = ext('func', 8, [[0, 1]]);
    new DataView(past.buffer).setUint32(12, 1000, true);
    bad(past, /byte 8: .*runs past the end/);
  });

  it('checks type ids and string offsets against the .BTF it is given', () => {
    const btf = built.get('bpfel')!.btf;
    expect(() => BtfExt.parse(ext('func', 8, [[0, 1_000_000]]), { btf })).toThrow(
      /byte 48: refers to type id 1000000/,
    );
    const far = ext('func', 8, [[0, 1]]);
    new DataView(far.buffer).setUint32(36, 1_000_000, true);
    expect(() => BtfExt.parse(far, { btf })).toThrow(/byte 36: string offset 1000000/);
  });

  it('throws only BtfError on corrupted and truncated input, and never hangs', () => {
    const { ext, btf } = built.get('bpfel')!;
    fuzzBtfExt(ext, btf, 10_000, 1);
  });
});
