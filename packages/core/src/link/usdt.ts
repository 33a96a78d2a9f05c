import { existsSync } from 'node:fs';
import type { Btf } from '@ebpf/btf';
import { type UsdtNote, usdtNotes } from '@ebpf/object';
import * as sys from '@ebpf/sys';
import { LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError, NotSupportedError } from '../errors.ts';
import { features } from '../features/probes.ts';
import type { BpfMap } from '../map/map.ts';
import { pmuConfigBit, pmuType } from '../system.ts';
import { withBinary } from './binary.ts';
import { checkCookie, Link, type ProgramLike, requireProgramType, type TypedProgram } from './link.ts';
import { linkPerfEvent } from './perf-event.ts';
import { binaryPath, checkPid, UprobeLink } from './uprobe.ts';
import { encodeUsdtSpec, parseUsdtArgs, type UsdtSpecLayout, usdtSpecLayout } from './usdt-spec.ts';

/**
 * USDT probes (`DTRACE_PROBE`/`STAP_PROBE` sites of <sys/sdt.h>) for programs built with
 * libbpf's usdt.bpf.h, as libbpf attaches them: one uprobe per site of `provider:name`, its
 * semaphore raised through the uprobe's reference counter, and its argument specs written to
 * the program's `__bpf_usdt_specs` map under an id the uprobe passes as its BPF cookie.
 */

/** The maps of usdt.bpf.h a USDT program reads its arguments from. */
export interface UsdtMaps {
  /** `__bpf_usdt_specs` (an array of `struct __bpf_usdt_spec`). */
  readonly specs: BpfMap;
  /** The object's BTF, where `struct __bpf_usdt_spec` is laid out (default: libbpf 1.1's layout). */
  readonly btf?: Btf | undefined;
}

/** Which probe, where, and what its program sees. */
export interface UsdtOptions {
  /** The binary or library with the probe: an absolute path, or a bare name looked up (`libc.so.6`). */
  readonly path: string;
  readonly provider: string;
  readonly name: string;
  /** Only this process (default: every process running the binary). */
  readonly pid?: number;
  /** What `bpf_usdt_cookie()` returns in the program (the BPF cookie itself carries the spec id). */
  readonly cookie?: number | bigint;
  /**
   * The program's `__bpf_usdt_specs` map (and the object's BTF); a collection's `attach()`
   * passes its own.
   */
  readonly maps: UsdtMaps;
}

/** One site of a USDT probe: the uprobe and where it is. */
export interface UsdtSite {
  readonly link: UprobeLink;
  /** File offset of the probed instruction. */
  readonly fileOffset: number;
  /** File offset of the semaphore, 0 without one. */
  readonly semaphoreOffset: number;
}

/** Spec ids in use, per spec map (by kernel map id: clones of one map share them). */
const usedIds = new Map<number, Set<number>>();

function allocateId(map: BpfMap, probe: string): number {
  const used = usedIds.get(map.id) ?? new Set<number>();
  usedIds.set(map.id, used);
  for (let id = 0; id < map.maxEntries; id++) {
    if (used.has(id)) continue;
    used.add(id);
    return id;
  }
  throw new InvalidArgumentError(
    `attaching USDT probe ${probe}: all ${map.maxEntries} entries of ${map.name || 'the spec map'} are in use; build the program with a larger BPF_USDT_MAX_SPEC_CNT`,
  );
}

function releaseIds(mapId: number, ids: readonly number[]): void {
  const used = usedIds.get(mapId);
  if (used === undefined) return;
  for (const id of ids) used.delete(id);
  if (used.size === 0) usedIds.delete(mapId);
}

/** Frees the spec ids of links dropped without `close()` (their sites' fds have finalizers of their own). */
const forgotten = new FinalizationRegistry<() => void>((release) => release());

/**
 * A USDT program on every site of one probe: a uprobe link per site, closed together. The
 * link's own fd is a second fd of the first site's link (so `info()`, `id` describe that one);
 * `sites` has them all. Closing it detaches every site and frees the spec map entries.
 */
export class UsdtLink extends Link {
  /** `path:provider:name`. */
  readonly target: string;
  readonly sites: readonly UsdtSite[];
  readonly #release: () => void;

  /** @internal Use `attachUsdt`. */
  constructor(target: string, sites: readonly UsdtSite[], release: () => void) {
    const first = sites[0];
    if (first === undefined) throw new Error('internal: a USDT link without sites');
    super(sys.dup(first.link.fd), LinkType.PerfEvent);
    this.target = target;
    this.sites = sites;
    this.#release = release;
    forgotten.register(this, release, this);
  }

  /** Detaches every site, closes their links and frees their spec entries. */
  override close(): void {
    if (this.closed) return;
    super.close();
    for (const site of this.sites) site.link.close();
    forgotten.unregister(this);
    this.#release();
  }

  /** Replaces the program of every site (see {@link Link.update}). */
  override update(program: ProgramLike, expected?: ProgramLike): void {
    for (const site of this.sites) site.link.update(program, expected);
  }

  /** Detaches every site while keeping the links open (see {@link Link.detach}). */
  override detach(): void {
    for (const site of this.sites) site.link.detach();
  }

  /** Refused: a USDT probe is one link per site; pin `sites[i].link` each. */
  override pin(_path: string): void {
    throw new InvalidArgumentError(
      `a USDT link is ${this.sites.length} uprobe links, one per site: pin each of link.sites[i].link`,
    );
  }
}

/** `provider:name` of each probe, once, for the error that lists what a binary has. */
function probeNames(notes: readonly UsdtNote[]): string {
  return [...new Set(notes.map((n) => `${n.provider}:${n.name}`))].join(', ');
}

function checkSpecMap(maps: UsdtMaps | undefined, layout: UsdtSpecLayout): BpfMap {
  const specs = maps?.specs;
  if (specs === undefined || typeof specs !== 'object')
    throw new InvalidArgumentError(
      "attachUsdt needs maps.specs: the program's __bpf_usdt_specs map (coll.maps.__bpf_usdt_specs; coll.attach() passes it)",
    );
  if (specs.typeName !== 'array' || specs.keySize !== 4 || specs.valueSize !== layout.size)
    throw new InvalidArgumentError(
      `maps.specs must be usdt.bpf.h's __bpf_usdt_specs (an array of ${layout.size}-byte struct __bpf_usdt_spec), got ${specs.typeName} map ${specs.name} with ${specs.keySize}-byte keys and ${specs.valueSize}-byte values`,
    );
  return specs;
}

function checkName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '' || value.includes(':'))
    throw new InvalidArgumentError(`${what} must be a non-empty name without ':', got '${String(value)}'`);
  return value;
}

/** One uprobe on `site`, its semaphore counted, the spec id as its cookie. */
function attachSite(
  program: ProgramLike,
  site: UsdtNote,
  at: { path: string; pid: number; probe: string; specId: number; refCounterBit: number | undefined },
): UsdtSite {
  const { path, refCounterBit } = at;
  const fd = linkPerfEvent(program, {
    type: pmuType('uprobe'),
    config: refCounterBit === undefined ? 0n : BigInt(site.semaphoreOffset) << BigInt(refCounterBit),
    config2: site.fileOffset,
    pid: at.pid,
    name: path,
    cookie: BigInt(at.specId),
    what: `attaching USDT probe ${at.probe} at ${path}+0x${site.fileOffset.toString(16)}`,
  });
  return {
    link: new UprobeLink(fd, `${path}+${site.fileOffset}`),
    fileOffset: site.fileOffset,
    semaphoreOffset: site.semaphoreOffset,
  };
}

/** The sites of `provider:name` in the binary at `path`, and the binary's ELF machine. */
function findSites(path: string, provider: string, name: string): { sites: UsdtNote[]; machine: number } {
  const { notes, machine } = withBinary(path, (elf) => ({ notes: usdtNotes(elf), machine: elf.machine }));
  if (notes.length === 0)
    throw new NotFoundError(
      `${path} has no USDT probes (no .note.stapsdt section): give the binary or library whose code has the DTRACE_PROBE/STAP_PROBE sites`,
      { code: 'ENOENT' },
    );
  const sites = notes.filter((n) => n.provider === provider && n.name === name);
  if (sites.length === 0)
    throw new NotFoundError(`${path} has no USDT probe ${provider}:${name}; it has ${probeNames(notes)}`, {
      code: 'ENOENT',
    });
  return { sites, machine };
}

/**
 * Attaches a `kprobe`-type program built with libbpf's usdt.bpf.h (`BPF_USDT`,
 * `bpf_usdt_arg()`) to every site of USDT probe `provider:name` in the binary or library at
 * `path`. Each site's arguments are described to the program through `maps.specs`; a probe
 * behind a semaphore (`if (PROVIDER_NAME_ENABLED())`) is enabled while attached.
 * `NotFoundError` when the binary has no USDT notes or not this probe (the message lists the
 * probes it has), or `pid` is no running process; `InvalidArgumentError` for an argument spec
 * usdt.bpf.h cannot follow; `NotSupportedError` where kprobe programs cannot read BPF cookies
 * (before Linux 5.15: the spec ids travel in them).
 */
export function attachUsdt(program: TypedProgram, options: UsdtOptions): UsdtLink {
  requireProgramType(program, 'attachUsdt', ProgType.Kprobe);
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('attachUsdt takes { path, provider, name, maps, pid?, cookie? }');
  const provider = checkName(options.provider, 'provider');
  const name = checkName(options.name, 'name');
  const path = binaryPath(options.path);
  const { pid = -1 } = options;
  checkPid(pid);
  if (pid !== -1 && !existsSync(`/proc/${pid}`))
    throw new NotFoundError(
      `attachUsdt: there is no process ${pid}; give a running process's id, or no pid`,
      {
        code: 'ESRCH',
      },
    );
  const layout = usdtSpecLayout(options.maps?.btf);
  const specs = checkSpecMap(options.maps, layout);
  const cookie = options.cookie === undefined ? 0n : checkCookie(options.cookie);
  const probe = `${provider}:${name}`;
  if (!features.helper('kprobe', 'bpf_get_attach_cookie'))
    throw new NotSupportedError(
      'USDT probes',
      'kprobe programs cannot read BPF cookies here (Linux 5.15+), and USDT specs are found by them',
    );
  const { sites, machine } = findSites(path, provider, name);
  // Every spec is read before anything is attached: a bad one leaves nothing behind.
  const encoded = sites.map((site) =>
    encodeUsdtSpec(layout, parseUsdtArgs(site.args, machine, `${probe} in ${path}`), cookie, probe),
  );
  const refCounterBit = pmuConfigBit('uprobe', 'ref_ctr_offset');
  if (refCounterBit === undefined && sites.some((s) => s.semaphoreOffset !== 0))
    throw new NotSupportedError(
      'USDT semaphores',
      'the uprobe PMU has no ref_ctr_offset (Linux 4.20+), so guarded probes cannot be enabled',
    );
  const mapId = specs.id;
  const ids: number[] = [];
  const made: UsdtSite[] = [];
  const release = () => releaseIds(mapId, ids);
  try {
    // Sites with the same argument specs share one spec entry.
    const idOf = new Map<string, number>();
    for (const [i, site] of sites.entries()) {
      let id = idOf.get(site.args);
      if (id === undefined) {
        id = allocateId(specs, probe);
        ids.push(id);
        idOf.set(site.args, id);
        const key = new Uint8Array(4);
        new DataView(key.buffer).setUint32(0, id, true);
        specs.update(key, encoded[i] as Uint8Array);
      }
      made.push(attachSite(program, site, { path, pid, probe, specId: id, refCounterBit }));
    }
    return new UsdtLink(`${path}:${probe}`, made, release);
  } catch (error) {
    for (const site of made) site.link.close();
    release();
    throw error;
  }
}
