import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { pmuConfigBit, pmuType } from '../system.ts';
import { symbolOffset, withBinary } from './binary.ts';
import { checkCookie, Link, requireProgramType, type TypedProgram } from './link.ts';
import { linkPerfEvent } from './perf-event.ts';

/** Where a uprobe goes and what it watches. */
export interface UprobeOptions {
  /** A function of the binary (looked up in its symbol tables), or give `offset`. */
  readonly symbol?: string;
  /** File offset of the probed instruction; added to the symbol's when both are given. */
  readonly offset?: number;
  /** Fire on return instead of entry (a uretprobe). */
  readonly returnProbe?: boolean;
  /** Only this process (default: every process running the binary). */
  readonly pid?: number;
  /** What `bpf_get_attach_cookie()` returns in the program. */
  readonly cookie?: number | bigint;
}

/** A `kprobe`-type program attached to a user-space function. Closing it detaches the program. */
export class UprobeLink extends Link {
  /** `path:symbol+offset`, when known. */
  readonly target: string | undefined;

  /** @internal Use `attachUprobe`. */
  constructor(fd: number, target: string | undefined) {
    super(fd, LinkType.PerfEvent);
    this.target = target;
  }
}

/** Where a bare library name (`libc.so.6`) or program name (`bash`) is looked for, as libbpf does. */
function searchPath(name: string): string[] {
  const library = /\.so($|\.)/.test(name);
  const dirs = library
    ? [process.env.LD_LIBRARY_PATH, '/usr/lib64:/usr/lib', multiarchLibraries[process.arch]]
    : [process.env.PATH, '/usr/bin:/usr/sbin'];
  return dirs.flatMap((list) => (list ? list.split(':').filter((dir) => isAbsolute(dir)) : []));
}

/** Debian's multiarch library folders, searched after the plain ones. */
const multiarchLibraries: Readonly<Record<string, string>> = {
  x64: '/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu',
  arm64: '/lib/aarch64-linux-gnu:/usr/lib/aarch64-linux-gnu',
};

/**
 * The absolute path of the binary to probe: an absolute path as given; a bare name
 * (`libc.so.6`, `bash`) found in the library or program search path. Relative paths are refused:
 * the kernel would not resolve them the same way for every process.
 */
export function binaryPath(path: unknown): string {
  if (typeof path === 'string' && isAbsolute(path)) return path;
  if (typeof path !== 'string' || path === '' || path.includes('/'))
    throw new InvalidArgumentError(
      `path must be the absolute path of a binary or library, or a bare name to look up (libc.so.6), got '${String(path)}'`,
    );
  const dirs = searchPath(path);
  const found = dirs.map((dir) => join(dir, path)).find((file) => existsSync(file));
  if (found === undefined)
    throw new NotFoundError(`no ${path} in ${dirs.join(', ')}: give its absolute path`, { code: 'ENOENT' });
  return found;
}

/** Throws unless `pid` is a process id or -1 (every process). */
export function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid < -1)
    throw new InvalidArgumentError(`pid must be a process id or -1, got ${pid}`);
}

/**
 * Attaches a `kprobe`-type program to a function of a user-space binary or library (`path`
 * absolute, or a bare name such as `libc.so.6` looked up as libbpf does): a uprobe on entry, or with `returnProbe` a uretprobe on return. The function is given
 * by `symbol` (looked up in the ELF symbol tables) and/or a file `offset`.
 */
export function attachUprobe(program: TypedProgram, path: string, options: UprobeOptions): UprobeLink {
  requireProgramType(program, 'attachUprobe', ProgType.Kprobe);
  const file = binaryPath(path);
  const { symbol, offset = 0, returnProbe = false, pid = -1 } = options ?? {};
  if (symbol === undefined && options?.offset === undefined) {
    throw new InvalidArgumentError('attachUprobe needs a symbol or an offset');
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidArgumentError('offset must be a non-negative integer');
  checkPid(pid);
  let fileOffset = offset;
  if (symbol !== undefined) fileOffset += symbolOffset(file, symbol);
  else withBinary(file, () => undefined); // an offset alone: what is not an ELF file is still refused clearly
  const retprobeBit = returnProbe ? pmuConfigBit('uprobe', 'retprobe') : undefined;
  if (returnProbe && retprobeBit === undefined) {
    throw new InvalidArgumentError('this kernel does not describe uretprobes (no uprobe/format/retprobe)');
  }
  const target = `${file}:${symbol ?? ''}${offset ? `+${offset}` : ''}`;
  const fd = linkPerfEvent(program, {
    type: pmuType('uprobe'),
    config: retprobeBit === undefined ? 0 : 1n << BigInt(retprobeBit),
    config2: fileOffset,
    pid,
    name: file,
    ...(options.cookie === undefined ? {} : { cookie: checkCookie(options.cookie) }),
    what: `attaching a ${returnProbe ? 'uretprobe' : 'uprobe'} to ${target}`,
  });
  return new UprobeLink(fd, target);
}
