/**
 * libbpf as the oracle for Collection.load: each corpus object is loaded by libbpf (the C
 * harness in @ebpf/test-utils) and by us, then compared where the kernel tells: the maps it
 * holds (bpf_map_info), the programs after verification (xlated, map ids replaced by map
 * names), test runs on the same input, and the map contents those runs leave.
 */
import { requireKernel } from '@ebpf/test-utils';
import { buildObject, Scratch, vmlinuxHeader } from '@ebpf/test-utils/clang';
import { libbpfOracle, type OracleContents, type OracleReport } from '@ebpf/test-utils/oracle';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BpfMap } from '../map/map.ts';
import { Collection } from './collection.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());

/** Corpus objects both loaders load here, and the programs left out of both. */
const corpus: ReadonlyArray<[name: string, noLoad: string[], vmlinuxH?: boolean]> = [
  ['elf-basics', []],
  ['programs-and-subprograms', []],
  ['maps-of-every-kind', []],
  ['globals-of-every-section', []],
  ['isa-v4', []],
  ['btf-ext', []],
  // The verifier finds typed ksyms in kallsyms, which lists no variables without CONFIG_KALLSYMS_ALL:
  // the typed ksym program cannot load here (for libbpf either).
  ['externs-kconfig-ksym', ['reads_typed_ksym']],
  // usdt.bpf.h: hidden helpers verified with their callers, LINUX_HAS_BPF_COOKIE in .kconfig.
  ['usdt-helpers', []],
  // CO-RE against this kernel's BTF: offsets, existence, sizes, enum values, flavours, poison.
  ['core-basics', [], true],
];

/** Program types the kernel test-runs on a packet. */
const runnable = new Set(['xdp', 'socket_filter', 'sched_cls']);
/** An Ethernet frame carrying IPv4 (so tc and socket programs see a real protocol), 64 bytes. */
const packet = new Uint8Array(64);
packet.set([0x08, 0x00], 12);

const LD_IMM64 = 0x18;
const PSEUDO_MAP_FD = 1;
const PSEUDO_MAP_VALUE = 2;

/** Xlated slots as hex, the map id of each map reference replaced by the map's name. */
function normalise(bytes: Uint8Array, nameOfId: (id: number) => string): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    const slot = Buffer.from(bytes.subarray(at, at + 8)).toString('hex');
    const src = (view.getUint8(at + 1) >> 4) & 0xf;
    if (view.getUint8(at) === LD_IMM64 && (src === PSEUDO_MAP_FD || src === PSEUDO_MAP_VALUE)) {
      out.push(`${slot.slice(0, 8)}<${nameOfId(view.getUint32(at + 4, true))}>`);
    } else out.push(slot);
  }
  return out;
}

/** Maps whose contents name kernel objects by id, or that cannot be walked, or hold per-CPU values. */
const comparable = (type: string): boolean => ['array', 'hash', 'lru_hash', 'lpm_trie'].includes(type);

/**
 * libbpf's name of our map `name`: the C name (the kernel's stops at 15 characters), but for
 * global data the kernel's (`elf_basi.data`), as bpf_map__name() says.
 */
const libbpfName = (name: string, map: BpfMap): string => (name.startsWith('.') ? map.name : name);

/** What `report.contents` would say of our maps: raw entries of maps whose values are plain bytes. */
function contentsOf(maps: Readonly<Record<string, BpfMap>>): OracleContents {
  const out: OracleContents = {};
  for (const [name, map] of Object.entries(maps)) {
    if (!comparable(map.typeName)) continue;
    const entries: Array<[string, string]> = [];
    for (const [key, value] of map.entries())
      entries.push([Buffer.from(key).toString('hex'), Buffer.from(value).toString('hex')]);
    out[libbpfName(name, map)] = { entries };
  }
  return out;
}

requireKernel('Collection.load against libbpf', () => {
  describe.each(corpus)('%s', (name, noLoad, vmlinuxH) => {
    let report: OracleReport;
    let coll: Collection;
    let runs: string[];
    beforeAll(() => {
      const path = buildObject(scratch, name, 'bpfel', vmlinuxH ? [vmlinuxHeader(scratch)] : []);
      const first = libbpfOracle(path, { noLoad });
      runs = first.programs.filter((p) => p.loaded && runnable.has(p.type)).map((p) => p.name);
      report = libbpfOracle(path, { noLoad, runs: runs.map((program) => ({ program, data: packet })) });
      coll = Collection.load(path, { programs: Object.fromEntries(noLoad.map((p) => [p, { load: false }])) });
    });
    afterAll(() => coll?.close());

    it('loads the programs libbpf loads', () => {
      expect(report.loaded).toBe(true);
      const theirs = report.programs.filter((p) => p.loaded).map((p) => p.name);
      expect(Object.keys(coll.programs).sort()).toEqual(theirs.sort());
    });

    it('creates the maps libbpf creates, as the kernel reports them (BTF type ids too)', () => {
      const ours = Object.values(coll.maps).map((map) => {
        const info = map.info();
        return {
          name: info.name,
          type: map.typeName,
          keySize: info.keySize,
          valueSize: info.valueSize,
          maxEntries: info.maxEntries,
          flags: info.flags,
          mapExtra: String(info.mapExtra),
          btfKeyTypeId: info.btfKeyTypeId,
          btfValueTypeId: info.btfValueTypeId,
        };
      });
      const theirs = report.maps.map((m) => {
        const { name, type, keySize, valueSize, maxEntries, flags, mapExtra, btfKeyTypeId, btfValueTypeId } =
          m.info ?? m;
        return { name, type, keySize, valueSize, maxEntries, flags, mapExtra, btfKeyTypeId, btfValueTypeId };
      });
      expect(ours).toEqual(expect.arrayContaining(theirs));
      expect(ours).toHaveLength(theirs.length);
    });

    it('gives the kernel the same programs (after verification, maps by name)', () => {
      const ourName = new Map(
        Object.entries(coll.maps).map(([name, m]) => [m.info().id, libbpfName(name, m)]),
      );
      const theirName = new Map(report.maps.map((m) => [m.info?.id ?? -1, m.name]));
      for (const theirs of report.programs.filter((p) => p.loaded)) {
        const ours = coll.programs[theirs.name] as Collection['programs'][string];
        const theirBytes = new Uint8Array(Buffer.from((theirs.xlated ?? []).join(''), 'hex'));
        expect({
          [theirs.name]: normalise(ours.xlatedBytes(), (id) => ourName.get(id) ?? `map ${id}`),
        }).toEqual({
          [theirs.name]: normalise(theirBytes, (id) => theirName.get(id) ?? `map ${id}`),
        });
      }
    });

    it('runs like libbpf and leaves the same map contents', () => {
      for (const [index, program] of runs.entries()) {
        const result = coll.programs[program]?.run({ data: packet });
        const theirs = report.runs[index];
        expect({
          program,
          retval: result?.retval,
          data: Buffer.from(result?.data ?? []).toString('hex'),
        }).toEqual({
          program,
          retval: theirs?.retval,
          data: theirs?.dataOut,
        });
      }
      const ours = contentsOf(coll.maps);
      for (const map of report.maps.filter((m) => comparable(m.type))) {
        expect({ [map.name]: ours[map.name]?.entries }).toEqual({
          [map.name]: report.contents[map.name]?.entries,
        });
      }
    });
  });
});
