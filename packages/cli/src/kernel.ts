/**
 * Everything the CLI asks of the kernel, through `@ebpf/core`'s public API only. Commands import
 * this module lazily, so that `ebpf asm`, `ebpf disasm` and `--help` never load the native binding.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disassemble, type Program } from '@ebpf/asm';
import type { Btf } from '@ebpf/btf';
import { BpfMap, BpfProgram, Link } from '@ebpf/core';
import { cNameOf, LinkType, MapType, PseudoSrc, XdpAction } from '@ebpf/uapi';
import { type BtfValue, decodeBtfValue } from './format/btf-value.ts';
import { enumName } from './format/names.ts';
import { btfById, type ProgFunction, programFunctions, valueTypeFromPrograms } from './kernel-btf.ts';

/** A program as `ebpf prog list|show` prints it. */
export interface ProgSummary {
  id: number;
  type: string;
  name: string;
  tag: string;
  /** Instructions after the kernel's rewrites. */
  insnCount: number;
  xlatedSize: number;
  jitedSize: number;
  mapIds: number[];
  btfId: number;
  /** ISO time of loading. */
  loadedAt: string | undefined;
  uid: number | undefined;
  runCount: number | undefined;
  runTimeNs: number | undefined;
}

/** What `ebpf prog show` adds to the summary. */
export interface ProgDetails extends ProgSummary {
  /** Its functions, from its BTF and func_info (empty for a program loaded without BTF). */
  functions: ProgFunction[];
}

/** A map as `ebpf map list|show` prints it. */
export interface MapSummary {
  id: number;
  type: string;
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  btfId: number;
}

/** What `ebpf map show` adds to the summary: the BTF types of key and value. */
export interface MapDetails extends MapSummary {
  /** Type ids in BTF object `btfId`; 0 when the map has no BTF or leaves one out. */
  btfKeyTypeId: number;
  btfValueTypeId: number;
  /** C names of those types (`struct flow`), when there are any. */
  keyType?: string;
  valueType?: string;
}

/** One entry of `ebpf map dump`: per-CPU maps have one value per possible CPU. */
export interface MapEntry {
  key: Uint8Array;
  value: Uint8Array | Uint8Array[] | undefined;
  /** Key and value decoded by the map's BTF, in the shape of bpftool's `formatted`. */
  formatted?: FormattedEntry;
}

/** bpftool's `formatted`: `key` absent when BTF does not type it, `values` for per-CPU maps. */
export interface FormattedEntry {
  key?: BtfValue;
  value?: BtfValue;
  values?: { cpu: number; value: BtfValue }[];
}

/** A link as `ebpf link list|show` prints it. */
export interface LinkSummary {
  id: number;
  type: string;
  progId: number;
  /** Type-specific details in words: `ifindex 1 (lo)`, `attach type cgroup_inet_ingress`, ... */
  details: string;
  /** Interface index of XDP, tcx and netkit links. */
  ifindex?: number;
  /** Interface name of XDP, tcx and netkit links, when it still exists. */
  iface?: string;
  /** Event kind of perf_event links (`tracepoint`, `uprobe`, ...). */
  perfEvent?: string;
  /** Tracepoint of raw_tracepoint links and tracepoint perf_event links. */
  tracepoint?: string;
  /** Binary and file offset of uprobe perf_event links. */
  path?: string;
  offset?: number;
  /** Kernel function of kprobe perf_event links. */
  function?: string;
  /** Cgroup id of cgroup links. */
  cgroupId?: bigint;
  /** Network namespace inode of netns links. */
  netnsIno?: number;
  /** Attach type of cgroup and netns links. */
  attachType?: string;
}

/** Map type number to its lower-case kernel name (`percpu_array`). */
export const mapTypeName = (type: number) => enumName(MapType, type, 'BPF_MAP_TYPE_');
/** Link type number to its lower-case kernel name (`xdp`). */
export const linkTypeName = (type: number) => enumName(LinkType, type, 'BPF_LINK_TYPE_');

type ProgInfoLike = ReturnType<BpfProgram['info']>;

function progSummary(p: ProgInfoLike): ProgSummary {
  const stats = p.runCnt > 0n || p.runTimeNs > 0n;
  return {
    id: p.id,
    type: p.typeName,
    name: p.name,
    tag: p.tag,
    insnCount: p.xlatedInsns,
    xlatedSize: p.xlatedProgLen,
    jitedSize: p.jitedLen,
    mapIds: [...p.mapIds],
    btfId: p.btfId,
    loadedAt: Number.isNaN(p.loadedAt.getTime())
      ? undefined
      : p.loadedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    uid: p.createdByUid,
    runCount: stats ? Number(p.runCnt) : undefined,
    runTimeNs: stats ? Number(p.runTimeNs) : undefined,
  };
}

/** Every program on the system. */
export function listPrograms(): ProgSummary[] {
  return BpfProgram.list().map(progSummary);
}

/** Parses each BTF object once, for commands that look at many programs or maps. */
function btfCache(): (id: number) => Btf {
  const parsed = new Map<number, Btf>();
  return (id) => {
    const btf = parsed.get(id) ?? btfById(id);
    parsed.set(id, btf);
    return btf;
  };
}

/** Programs by id with their BTF functions: the one asked for, or all of them. */
export function showPrograms(id?: number): ProgDetails[] {
  const btf = btfCache();
  return eachById(id, BpfProgram, (prog) => {
    const info = prog.info();
    const nrFuncInfo = Number(info.raw.nrFuncInfo ?? 0);
    const functions = info.btfId ? programFunctions(prog.fd, nrFuncInfo, btf(info.btfId)) : [];
    return { ...progSummary(info), functions };
  });
}

/**
 * `show` of the object with the id asked for, or of every object `kind` lists, each opened for
 * the call and closed after it; one that went away while listing is skipped (one asked for by id
 * is an error).
 */
function eachById<O extends Disposable, T>(
  id: number | undefined,
  kind: { list(): readonly { id: number }[]; fromId(id: number): O },
  show: (object: O) => T,
): T[] {
  const showId = (id: number) => {
    using object = kind.fromId(id);
    return show(object);
  };
  if (id !== undefined) return [showId(id)];
  const out: T[] = [];
  for (const object of kind.list()) {
    try {
      out.push(showId(object.id));
    } catch (error) {
      if ((error as Error).name !== 'NotFoundError') throw error;
    }
  }
  return out;
}

/**
 * Names of the kernel functions translated helper calls jump to: the kernel stores a call's
 * target as an offset from `__bpf_call_base`, which /proc/kallsyms resolves (root only; empty
 * when the addresses are hidden).
 */
export function kernelCallNames(): (imm: number) => string | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/kallsyms', 'latin1');
  } catch {
    return () => undefined;
  }
  const base = /^([0-9a-f]+) \w __bpf_call_base$/m.exec(text)?.[1];
  if (base === undefined || /^0+$/.test(base)) return () => undefined;
  const baseAddress = BigInt(`0x${base}`);
  let byAddress: Map<bigint, string> | undefined;
  return (imm) => {
    if (byAddress === undefined) {
      byAddress = new Map();
      for (const m of text.matchAll(/^([0-9a-f]+) [tTwW] (\S+)$/gm)) {
        const address = BigInt(`0x${m[1]}`);
        if (!byAddress.has(address)) byAddress.set(address, m[2]!);
      }
    }
    return byAddress.get(baseAddress + BigInt(imm));
  };
}

/**
 * Disassembles translated bytecode one instruction a line, each prefixed with its slot index.
 * The kernel's rewrites may use instructions of its own that are not part of the ISA (per-CPU
 * address moves, internal calls); those lines show the raw bytes instead of failing the dump.
 * `callName` names the kernel function a helper call's immediate points at, `mapName` the map
 * of a map id, when known.
 */
export function disassembleXlated(
  bytes: Uint8Array,
  callName: (imm: number) => string | undefined = () => undefined,
  mapName: (id: number) => string | undefined = () => undefined,
): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out = '';
  for (let off = 0; off + 8 <= bytes.length; ) {
    const len = bytes[off] === 0x18 && off + 16 <= bytes.length ? 16 : 8;
    const slot = bytes.subarray(off, off + len);
    let text: string;
    try {
      text = disassemble(slot).trim();
      const src = bytes[off + 1]! >> 4;
      if (bytes[off] === 0x85 && src === 0) {
        const name = callName(view.getInt32(off + 4, true));
        if (name !== undefined) text += `   ; ${name}`;
      } else if (bytes[off] === 0x18 && (src === PseudoSrc.MapFd || src === PseudoSrc.MapValue)) {
        // In dumps the kernel puts the map's id where the loader put its fd.
        const id = view.getUint32(off + 4, true);
        const name = mapName(id);
        text += `   ; map id ${id}${name ? ` (${name})` : ''}${src === PseudoSrc.MapValue ? ', value address' : ''}`;
      }
    } catch {
      text = `.8byte 0x${Buffer.from(slot.subarray(0, 8)).toString('hex')}   ; kernel-internal instruction`;
    }
    out += `${String(off / 8).padStart(4)}: ${text}\n`;
    off += len;
  }
  return out;
}

/** The name of the map with this id, or undefined (gone, unnamed, or not ours to open). */
function mapNameOf(id: number): string | undefined {
  try {
    using map = BpfMap.fromId(id);
    return map.info().name || undefined;
  } catch {
    return undefined;
  }
}

/** A program's translated bytecode and its disassembly. */
export function xlatedText(id: number): { text: string; bytes: Uint8Array } {
  using prog = BpfProgram.fromId(id);
  const bytes = prog.xlatedBytes();
  if (bytes.length === 0) return { text: "; the kernel hides this program's instructions\n", bytes };
  return { text: disassembleXlated(bytes, kernelCallNames(), mapNameOf), bytes };
}

/** A program's JIT image (empty when interpreted). */
export function jitedImage(id: number): Uint8Array {
  using prog = BpfProgram.fromId(id);
  return prog.jited();
}

/** Disassembles a JIT image with binutils' objdump for the host's architecture, when objdump is installed. */
export function objdumpJited(image: Uint8Array): string | undefined {
  if (image.length === 0) return '; not JIT-compiled\n';
  const arch = process.arch === 'x64' ? 'i386:x86-64' : process.arch === 'arm64' ? 'aarch64' : undefined;
  if (arch === undefined) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-jit-'));
  try {
    const file = join(dir, 'image.bin');
    writeFileSync(file, image);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-m', arch, '--no-show-raw-insn', file], {
      encoding: 'utf8',
    });
    if (r.status !== 0 || typeof r.stdout !== 'string') return undefined;
    const body = r.stdout.split('\n');
    const start = body.findIndex((l) => /^\s*0:/.test(l));
    return `${(start < 0 ? body : body.slice(start)).join('\n').trimEnd()}\n`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type MapInfoLike = ReturnType<BpfMap['info']>;

function mapSummary(m: MapInfoLike): MapSummary {
  return {
    id: m.id,
    type: mapTypeName(m.type),
    name: m.name,
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    btfId: m.btfId,
  };
}

/** Every map on the system. */
export function listMaps(): MapSummary[] {
  return BpfMap.list().map(mapSummary);
}

/** Maps by id with the names of their key and value types: the one asked for, or all of them. */
export function showMaps(id?: number): MapDetails[] {
  const btf = btfCache();
  return eachById(id, BpfMap, (map) => {
    const info = map.info();
    const { btfKeyTypeId, btfValueTypeId } = info;
    const types = info.btfId ? btf(info.btfId) : undefined;
    return {
      ...mapSummary(info),
      btfKeyTypeId,
      btfValueTypeId,
      ...(types && btfKeyTypeId && { keyType: types.nameOf(btfKeyTypeId) }),
      ...(types && btfValueTypeId && { valueType: types.nameOf(btfValueTypeId) }),
    };
  });
}

/** The head of a queue or stack: its bytes and, where a program's BTF types it, bpftool's `formatted`. */
export interface MapHead {
  value: Uint8Array;
  formatted?: { value: BtfValue };
}

/**
 * What `map dump` shows of a map: its entries; for a queue or stack (whose elements have no
 * keys, and which the kernel lets one read only by removing them) the head alone, by a peek that
 * takes nothing away; for a bloom filter or ring buffer, which hold nothing one can read back as
 * entries, only that.
 */
export type MapDump =
  | { readonly kind: 'entries'; readonly entries: MapEntry[] }
  | { readonly kind: 'head'; readonly type: string; readonly head: MapHead | undefined }
  | { readonly kind: 'unlisted'; readonly type: string };

/** Map types without entries to list. */
const unlistedTypes = new Set(['bloom_filter', 'ringbuf', 'user_ringbuf']);

export function dumpMap(id: number, limit: number): MapDump {
  using map = BpfMap.fromId(id);
  if (map.typeName === 'queue' || map.typeName === 'stack')
    return { kind: 'head', type: map.typeName, head: headOf(map as BpfMap<never, Uint8Array>) };
  if (unlistedTypes.has(map.typeName)) return { kind: 'unlisted', type: map.typeName };
  return { kind: 'entries', entries: entriesOf(map, limit) };
}

/** The head of a queue or stack, decoded by the value type its programs' BTF gives it. */
function headOf(map: BpfMap<never, Uint8Array>): MapHead | undefined {
  const peeked = map.peek();
  if (peeked === undefined) return undefined;
  const value = Uint8Array.from(peeked);
  const typed = valueTypeFromPrograms(map.info());
  const decoded = typed && decodeBtfValue(typed.btf, typed.typeId, value);
  return decoded === undefined ? { value } : { value, formatted: { value: decoded } };
}

/** Up to `limit` entries of a map, as bytes and, where the map has BTF, decoded by it. */
function entriesOf(map: BpfMap, limit: number): MapEntry[] {
  const info = map.info();
  const btf = info.btfId ? btfById(info.btfId) : undefined;
  const decode = (typeId: number, bytes: Uint8Array) =>
    btf && typeId ? decodeBtfValue(btf, typeId, bytes) : undefined;
  const out: MapEntry[] = [];
  for (const [rawKey, rawValue] of map.entries() as Iterable<[Uint8Array, Uint8Array | Uint8Array[]]>) {
    const key = Uint8Array.from(rawKey);
    const value = Array.isArray(rawValue) ? rawValue.map((v) => Uint8Array.from(v)) : rawValue;
    const formatted: FormattedEntry = {};
    const k = decode(info.btfKeyTypeId, key);
    if (k !== undefined) formatted.key = k;
    if (Array.isArray(value)) {
      const values = value.map((v) => decode(info.btfValueTypeId, v));
      if (values.every((v) => v !== undefined))
        formatted.values = values.map((v, cpu) => ({ cpu, value: v as BtfValue }));
    } else {
      const v = value && decode(info.btfValueTypeId, value);
      if (v !== undefined) formatted.value = v;
    }
    out.push({ key, value, ...(Object.keys(formatted).length > 0 && { formatted }) });
    if (out.length >= limit) break;
  }
  return out;
}

function ifindexOf(name: string): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Interface name of an ifindex, from /sys/class/net (which lists interfaces without addresses too). */
export function interfaceName(ifindex: number): string | undefined {
  try {
    for (const name of readdirSync('/sys/class/net')) if (ifindexOf(name) === ifindex) return name;
  } catch {
    // Names are a nicety: without /sys the ifindex alone is shown.
  }
  return undefined;
}

type LinkInfoLike = ReturnType<Link['info']>;

/** Hook fields of a link, with the label bpftool gives them. */
const hookFields = [
  ['event', 'perfEvent'],
  ['tp_name', 'tracepoint'],
  ['file', 'path'],
  ['offset', 'offset'],
  ['func', 'function'],
  ['cgroup_id', 'cgroupId'],
  ['netns_ino', 'netnsIno'],
  ['attach_type', 'attachType'],
] as const;

function linkSummary(l: LinkInfoLike): LinkSummary {
  const type = linkTypeName(l.type);
  const raw = l.raw as Record<string, unknown>;
  const out: LinkSummary = { id: l.id, type, progId: l.progId, details: '' };
  if (type === 'xdp' || type === 'tcx' || type === 'netkit') {
    const ifindex = Number(raw.xdpIfindex ?? raw.tcxIfindex ?? raw.netkitIfindex ?? raw.ifindex ?? 0);
    if (ifindex > 0) {
      out.ifindex = ifindex;
      const name = interfaceName(ifindex);
      if (name !== undefined) out.iface = name;
      out.details = `ifindex ${ifindex}${name ? ` (${name})` : ''}`;
    }
  }
  const words: string[] = [];
  for (const [label, field] of hookFields) {
    const value = l[field];
    if (value === undefined) continue;
    Object.assign(out, { [field]: value });
    words.push(`${label} ${value}`);
  }
  if (words.length > 0) out.details = words.join(' ');
  return out;
}

/** Every link on the system. */
export function listLinks(): LinkSummary[] {
  return Link.list().map(linkSummary);
}

/** One link by id. */
export function showLink(id: number): LinkSummary {
  using link = Link.fromId(id);
  return linkSummary(link.info());
}

/** The outcome of `ebpf run`. */
export interface TestRunOutcome {
  retval: number;
  /** The XDP action's name for XDP programs (`XDP_PASS`). */
  action: string | undefined;
  durationNs: number;
  data: Uint8Array;
  /** The context as the program left it, when one was given. */
  context: Uint8Array | undefined;
}

/** What `ebpf run` feeds a test run. */
export interface TestRunInput {
  data: Uint8Array | undefined;
  context: Uint8Array | undefined;
  repeat: number;
  /** Map name → pinned path, for the maps the program names. */
  maps: Readonly<Record<string, string>>;
}

/** Loads `program` as a program of `type` with its pinned maps, test-runs it and closes it all. */
export function testRun(program: Program | Uint8Array, type: string, input: TestRunInput): TestRunOutcome {
  const maps: Record<string, BpfMap> = {};
  try {
    for (const [name, path] of Object.entries(input.maps)) maps[name] = BpfMap.fromPin(path);
    return loadAndRun(program, type, input, maps);
  } finally {
    for (const map of Object.values(maps)) map.close();
  }
}

function loadAndRun(
  program: Program | Uint8Array,
  type: string,
  input: TestRunInput,
  maps: Record<string, BpfMap>,
): TestRunOutcome {
  using prog = BpfProgram.load({
    type: type as never,
    instructions: program,
    license: 'GPL',
    name: 'ebpf_run',
    maps,
  });
  const { data, context, repeat } = input;
  const r = prog.run({ repeat, ...(data && { data }), ...(context && { context }) });
  const action =
    prog.typeName === 'xdp'
      ? (cNameOf(XdpAction as never, r.retval as never) as string | undefined)
      : undefined;
  return {
    retval: r.retval,
    action,
    durationNs: r.duration,
    data: Uint8Array.from(r.data),
    context: r.context && Uint8Array.from(r.context),
  };
}
