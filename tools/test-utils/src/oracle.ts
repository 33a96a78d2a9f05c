/**
 * The libbpf oracle: `oracle/libbpf-oracle.c` linked against the machine's libbpf (Debian's
 * libbpf-dev), built on first use into a temporary folder keyed by the source's hash, then run
 * on an object to report what libbpf made of it: programs with their final instructions, maps
 * with what the kernel reads back, test runs and map contents. Tests compare our loader with it.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface OracleProgram {
  name: string;
  section: string;
  /** libbpf's name of the program type: 'xdp', 'sched_cls', 'tracepoint', ... */
  type: string;
  /** libbpf's name of the expected attach type; 0 ('cgroup_inet_ingress') when the type needs none. */
  expectedAttachType: string;
  autoload: boolean;
  loaded: boolean;
  /** The instructions libbpf submitted, each 8-byte slot as 16 hex digits in memory order. */
  insns: string[];
  /** The program as the kernel holds it after verification (map references carry map ids), or null when not loaded. */
  xlated: string[] | null;
}

/** What the oracle reports of a map, from libbpf's view and from the kernel's alike. */
interface MapAttributes {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** A decimal string: map_extra is 64 bits wide. */
  mapExtra: string;
  btfKeyTypeId: number;
  btfValueTypeId: number;
}

/** `bpf_map_info` as the kernel reports it. */
export interface OracleMapInfo extends MapAttributes {
  /** The kernel-wide map id (what xlated instructions name a map by). */
  id: number;
  btfVmlinuxValueTypeId: number;
}

export interface OracleMap extends MapAttributes {
  /** The map's fd in the oracle process: what its ldimm64 instructions carry. */
  fd: number;
  /** The kernel's view, or null when the map was not created. */
  info: OracleMapInfo | null;
}

/** Per map name: every [key, value] in hex (per-CPU values for all possible CPUs), or why not. */
export type OracleContents = Record<string, { entries: Array<[string, string]>; error?: string }>;

export interface OracleRun {
  program: string;
  retval?: number;
  dataOut?: string;
  error?: string;
  contents: OracleContents;
}

export interface OracleReport {
  object: string;
  loaded: boolean;
  error?: { errno: number; message: string };
  programs: OracleProgram[];
  maps: OracleMap[];
  runs: OracleRun[];
  contents: OracleContents;
}

export interface OracleOptions {
  /** Programs whose autoload is turned off before the load. */
  noLoad?: readonly string[];
  /** Test runs after the load, in order; map contents are dumped after each. */
  runs?: ReadonlyArray<{ program: string; data?: Uint8Array; repeat?: number }>;
}

const source = new URL('../oracle/libbpf-oracle.c', import.meta.url).pathname;
let built: string | undefined;

/** The oracle binary, compiled once per source version; compiler errors surface as thrown errors. */
export function oracleBinary(): string {
  if (built !== undefined) return built;
  const hash = createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'ebpf-libbpf-oracle');
  const binary = join(dir, `libbpf-oracle-${hash}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    // Build beside the final name and rename, so parallel test files never run half a binary.
    const partial = `${binary}.${process.pid}`;
    try {
      execFileSync('gcc', ['-O2', '-Wall', '-o', partial, source, '-lbpf'], { stdio: 'pipe' });
    } catch (cause) {
      const stderr = (cause as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(
        `cannot build the libbpf oracle (needs gcc and libbpf-dev, see tools/setup.sh):\n${stderr}`,
        {
          cause,
        },
      );
    }
    renameSync(partial, binary);
  }
  built = binary;
  return binary;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Opens and loads `objectPath` with libbpf and reports the result (a refused load is reported, not thrown). */
export function libbpfOracle(objectPath: string, options: OracleOptions = {}): OracleReport {
  const args = [objectPath];
  for (const name of options.noLoad ?? []) args.push('--no-load', name);
  for (const run of options.runs ?? []) {
    args.push('--run', run.program, '--data', hex(run.data ?? new Uint8Array()));
    if (run.repeat !== undefined) args.push('--repeat', String(run.repeat));
  }
  const stdout = execFileSync(oracleBinary(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(stdout) as OracleReport;
}

/** Instructions from their hex slots, as the bytes of one program. */
export function insnBytes(insns: readonly string[]): Uint8Array {
  return new Uint8Array(Buffer.from(insns.join(''), 'hex'));
}
