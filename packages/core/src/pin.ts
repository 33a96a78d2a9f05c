import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statfsSync, unlinkSync } from 'node:fs';
import { dirname, isAbsolute, normalize } from 'node:path';
import * as sys from '@ebpf/sys';
import { AttrBuffer, Cmd, ObjAttr } from '@ebpf/uapi';
import {
  BpfError,
  InvalidArgumentError,
  NotFoundError,
  PermissionError,
  translateSysError,
} from './errors.ts';
import { KernelObject } from './kernel-object.ts';

/** The kinds of kernel objects that have fds, can be pinned and have ids. */
export type ObjectKind = 'map' | 'prog' | 'link' | 'btf';

/** Where bpffs is mounted by convention, and where `ensureBpffs()` mounts it. */
export const defaultBpffsPath = '/sys/fs/bpf';

/** `statfs(2)` f_type of the BPF file system. */
const BPF_FS_MAGIC = 0xcafe4a11;

const objAttr = new AttrBuffer(ObjAttr);
const encoder = new TextEncoder();

function isBpffs(path: string): boolean {
  try {
    return statfsSync(path).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/** Where BPF file systems are mounted, from /proc/self/mountinfo (mount points unescaped). */
function bpffsMounts(): string[] {
  let table: string;
  try {
    table = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const mounts: string[] = [];
  for (const line of table.split('\n')) {
    // "id parent dev root mountpoint options [optional...] - fstype source superoptions"
    const [left, right] = line.split(' - ');
    if (right?.split(' ')[0] !== 'bpf') continue;
    const point = left?.split(' ')[4];
    if (point)
      mounts.push(
        point.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(Number.parseInt(octal, 8))),
      );
  }
  return mounts;
}

/** What to tell someone whose path is not on a BPF file system. */
function bpffsAdvice(): string {
  const mounts = bpffsMounts();
  return mounts.length > 0
    ? `pins live on a BPF file system, mounted here at ${mounts.join(', ')}`
    : `pins live on a BPF file system and none is mounted: mount one as root with \`mount -t bpf bpf ${defaultBpffsPath}\``;
}

/**
 * Makes sure a BPF file system is mounted at `path` (default `/sys/fs/bpf`), mounting one if it
 * is missing. Mounting needs root (CAP_SYS_ADMIN); it runs `mount -t bpf bpf <path>`, and throws a
 * `PermissionError`/`BpfError` saying what to run by hand when that fails.
 */
export function ensureBpffs(path: string = defaultBpffsPath): void {
  if (isBpffs(path)) return;
  try {
    mkdirSync(path, { recursive: true });
  } catch (error) {
    throw new BpfError(`cannot create the bpffs mount point ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    const advice = `mount it yourself as root with \`mount -t bpf bpf ${path}\` (or add "bpffs ${path} bpf defaults 0 0" to /etc/fstab)`;
    const message = `no BPF file system at ${path} and mounting one failed${stderr ? ` (${stderr})` : ''}: ${advice}`;
    if (process.getuid?.() !== 0) throw new PermissionError(message, { cause: error });
    throw new BpfError(message, { cause: error });
  }
  if (!isBpffs(path)) throw new BpfError(`mounted bpffs at ${path}, but it does not show up there`);
}

/**
 * Checks a pin path: absolute, normalized, not a directory name, on a BPF file system (its parent,
 * once created). Returns the normalized path.
 */
export function validatePinPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('pin path must be a non-empty string');
  }
  if (path.includes('\0')) throw new InvalidArgumentError('pin path must not contain NUL characters');
  if (!isAbsolute(path)) {
    throw new InvalidArgumentError(
      `pin path must be absolute (under a bpffs mount such as ${defaultBpffsPath}): '${path}'`,
    );
  }
  const normalized = normalize(path);
  if (normalized.endsWith('/'))
    throw new InvalidArgumentError(`pin path must name a file, not a directory: '${path}'`);
  if (encoder.encode(normalized).length >= 4096)
    throw new InvalidArgumentError('pin path is longer than PATH_MAX');
  return normalized;
}

function cPath(path: string): Uint8Array {
  const raw = encoder.encode(path);
  const out = new Uint8Array(new ArrayBuffer(raw.length + 1));
  out.set(raw);
  return out;
}

/**
 * Pins the object behind `fd` at `path` (BPF_OBJ_PIN), creating missing parent directories on the
 * BPF file system. When the path is under `/sys/fs/bpf` and nothing is mounted there, bpffs is
 * mounted first. Throws `InvalidArgumentError` when the parent is not on a BPF file system and
 * a `BpfError` with code 'EEXIST' when something is already pinned there.
 */
export function pinObject(fd: number, path: string): void {
  const normalized = validatePinPath(path);
  const parent = dirname(normalized);
  if (
    (normalized.startsWith(`${defaultBpffsPath}/`) || parent === defaultBpffsPath) &&
    !isBpffs(defaultBpffsPath)
  ) {
    ensureBpffs(defaultBpffsPath);
  }
  try {
    mkdirSync(parent, { recursive: true });
  } catch (error) {
    throw new BpfError(`pinning at ${normalized}: cannot create ${parent}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isBpffs(parent)) {
    throw new InvalidArgumentError(`pin path ${normalized} is not on a BPF file system: ${bpffsAdvice()}`);
  }
  const name = cPath(normalized);
  objAttr.reset();
  objAttr.pointer('pathname', name);
  objAttr.u32('bpfFd', fd);
  try {
    sys.bpf(Cmd.ObjPin, objAttr.bytes, objAttr.pointers);
  } catch (error) {
    const translated = translateSysError(error, `pinning fd ${fd} at ${normalized}`);
    if ((translated as BpfError).code === 'EEXIST') {
      throw new BpfError(
        `pinning at ${normalized}: something is already pinned there (EEXIST); unpin it first`,
        {
          cause: error,
          code: 'EEXIST',
        },
      );
    }
    throw translated;
  } finally {
    objAttr.reset();
  }
}

/** The kind of BPF object an fd refers to, or undefined for other fds (and closed ones). */
export function kindOfFd(fd: number): ObjectKind | undefined {
  const kind = sys.fdKind(fd);
  return kind === 'map' || kind === 'prog' || kind === 'link' || kind === 'btf' ? kind : undefined;
}

const kindWords: Record<ObjectKind, string> = {
  map: 'map',
  prog: 'program',
  link: 'link',
  btf: 'BTF object',
};

/**
 * Opens the object pinned at `path` (BPF_OBJ_GET) and returns a new fd the caller owns. With
 * `kind`, checks the object is of that kind (closing the fd and throwing `InvalidArgumentError`
 * when it is not). `flags` are BPF_F_RDONLY/BPF_F_WRONLY (`MapFlags.Rdonly`...).
 */
export function getPinned(path: string, kind?: ObjectKind, flags = 0): number {
  const normalized = validatePinPath(path);
  const name = cPath(normalized);
  objAttr.reset();
  objAttr.pointer('pathname', name);
  objAttr.u32('fileFlags', flags);
  let fd: number;
  try {
    fd = sys.bpf(Cmd.ObjGet, objAttr.bytes, objAttr.pointers);
  } catch (error) {
    throw openPinError(error, normalized, kind);
  } finally {
    objAttr.reset();
  }
  if (kind !== undefined) {
    const actual = kindOfFd(fd);
    if (actual !== kind) {
      sys.close(fd);
      throw new InvalidArgumentError(
        `${normalized} holds a ${actual ? kindWords[actual] : 'non-BPF object'}, not a ${kindWords[kind]}`,
      );
    }
  }
  return fd;
}

/**
 * Words a failed BPF_OBJ_GET of `path`. The kernel refuses a path outside bpffs with a permission
 * error, which would send the user after root: say which it is instead.
 */
function openPinError(error: unknown, path: string, kind: ObjectKind | undefined): Error {
  const options = { cause: error };
  if (!existsSync(path)) {
    const parent = dirname(path);
    const where =
      existsSync(parent) && !isBpffs(parent)
        ? ` (${parent} is not on a BPF file system: ${bpffsAdvice()})`
        : '';
    return new NotFoundError(`nothing is pinned at ${path}${where}`, { ...options, code: 'ENOENT' });
  }
  if (!isBpffs(path)) {
    return new InvalidArgumentError(
      `${path} is not on a BPF file system, so it holds no pinned object: ${bpffsAdvice()}`,
      options,
    );
  }
  return translateSysError(error, `opening the ${kind ? kindWords[kind] : 'object'} pinned at ${path}`);
}

/** Removes a pin (the object lives on while other pins or fds hold it). False when nothing was there. */
export function unpinPath(path: string): boolean {
  const normalized = validatePinPath(path);
  try {
    unlinkSync(normalized);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new BpfError(`unpinning ${normalized}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A kernel object that can be pinned on a BPF file system (map, program, link). It remembers
 * where it was pinned (or opened from), so `unpin()` needs no path.
 */
export abstract class PinnableObject extends KernelObject {
  #pinnedPath: string | undefined;

  /**
   * Pins the object at `path` on a BPF file system (bpffs is mounted at `/sys/fs/bpf` if missing;
   * parent directories are created). The kernel object then outlives this process.
   */
  pin(path: string): void {
    pinObject(this.fd, path);
    this.#pinnedPath = validatePinPath(path);
  }

  /**
   * Removes a pin: `path`, or without one the pin made by `pin()` (or the one `fromPin()`
   * opened). False when nothing was pinned there. Works after `close()` too.
   */
  unpin(path?: string): boolean {
    const target = path === undefined ? this.#pinnedPath : validatePinPath(path);
    if (target === undefined) return false;
    if (target === this.#pinnedPath) this.#pinnedPath = undefined;
    return unpinPath(target);
  }

  /** The path this object was pinned at or opened from, if any. */
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }

  /** @internal Records the pin an object was opened from (`fromPin`). */
  protected openedFrom(path: string): this {
    this.#pinnedPath = validatePinPath(path);
    return this;
  }
}
