/**
 * `@ebpf/sys`: the native boundary of ebpf-ts. The system calls JavaScript cannot make itself,
 * each checked so that no argument can make the kernel read or write outside a JS buffer, or
 * crash the process. Policy (what a map or a program is) lives in `@ebpf/core`; this package
 * knows syscalls only.
 *
 * Argument mistakes throw `TypeError` / `RangeError` naming the argument; kernel failures throw
 * {@link SysError}, except the hot paths' documented `false` returns.
 *
 * @packageDocumentation
 */
import type { SysError } from './errors.ts';
import {
  type FdKind,
  type MapSizes,
  type Native,
  type NativeFdWatcher,
  native,
  type PointerField,
  type PointerPairs,
  type TestRunField,
} from './native.ts';

export { errnoName, hintFor, SysError, type SysErrorOptions } from './errors.ts';
export type { FdKind, MapSizes, PointerField, PointerPairs, TestRunField };

// ---------------------------------------------------------------------------------------------
// bpf()

/**
 * The checked `bpf(cmd, attr, size)` syscall. `attr` holds the command's `union bpf_attr` member
 * (laid out by `@ebpf/uapi`'s `AttrBuffer`); `pointers` are `[offset, buffer | null, ...]` pairs
 * naming the attr's pointer fields. Native copies the attr, checks each offset is a pointer field of
 * `cmd` and each buffer is at least as long as the attr's own length field says (instructions, log,
 * test-run data and context, info, batch counts; NUL-terminated for strings) or, for key and value
 * buffers, as the map's sizes say (from the fd size cache), writes the addresses, zeroes every
 * pointer field not given, calls the kernel, and copies the attr back (the kernel's outputs, e.g.
 * `retval`, `log_true_size`, `count`), never the addresses. Non-zero bytes past the fields this
 * package knows for `cmd` are refused.
 *
 * New map fds (`BPF_MAP_CREATE`, `BPF_MAP_GET_FD_BY_ID`, `BPF_OBJ_GET` of a map) join the size
 * cache. For `BPF_OBJ_GET_INFO_BY_FD` give the info buffer at offset 8; for the info struct's own
 * pointer fields use {@link objInfo}. `BPF_LINK_CREATE`'s pointer fields follow its attach type;
 * its `kprobe_multi.syms` takes the `cnt` names back to back, each NUL-terminated.
 *
 * @returns the syscall's result: a new fd for create/open commands, 0 otherwise.
 * @throws SysError when the kernel fails the call.
 *
 * @example
 * ```ts
 * const a = new AttrBuffer(MapCreateAttr);
 * a.u32('mapType', MapType.Hash); a.u32('keySize', 4); a.u32('valueSize', 8); a.u32('maxEntries', 1024);
 * const fd = bpf(Cmd.MapCreate, a.bytes, a.pointers);
 * ```
 */
export function bpf(cmd: number, attr: Uint8Array, pointers?: PointerPairs | null): number {
  // Up to four pairs with a buffer travel as arguments (bpfPairs): reading array elements from
  // native code costs one Node-API call each. Anything unusual takes the array path, which
  // checks and names every element. Native checks both paths alike.
  if (!Array.isArray(pointers) || pointers.length > 32 || (pointers.length & 1) !== 0) {
    return nativeBpf(cmd, attr, pointers);
  }
  let n = 0;
  let o0: unknown;
  let b0: unknown;
  let o1: unknown;
  let b1: unknown;
  let o2: unknown;
  let b2: unknown;
  let o3: unknown;
  let b3: unknown;
  for (let i = 0; i < pointers.length; i += 2) {
    const o = pointers[i];
    const b = pointers[i + 1];
    if (b === null || b === undefined) {
      if (typeof o === 'number') continue;
      return nativeBpf(cmd, attr, pointers);
    }
    if (n === 0) {
      o0 = o;
      b0 = b;
    } else if (n === 1) {
      o1 = o;
      b1 = b;
    } else if (n === 2) {
      o2 = o;
      b2 = b;
    } else if (n === 3) {
      o3 = o;
      b3 = b;
    } else {
      return nativeBpf(cmd, attr, pointers);
    }
    n++;
  }
  if (n === 1) return bpfPairs(cmd, attr, o0, b0);
  if (n === 0) return bpfPairs(cmd, attr);
  if (n === 2) return bpfPairs(cmd, attr, o0, b0, o1, b1);
  return bpfPairs(cmd, attr, o0, b0, o1, b1, o2, b2, o3, b3);
}
const nativeBpf = native.bpf;
const bpfPairs = native.bpfPairs;

/**
 * `BPF_OBJ_GET_INFO_BY_FD` with the info struct's own pointer fields: `info` is the
 * `bpf_{prog,map,link,btf}_info` buffer (its length is the info_len passed), `nested` the
 * `[offset, buffer | null, ...]` pairs inside it, e.g. `[32, xlated]` with `xlated_prog_len` set in
 * `info`, or `[56, mapIds]` with `nr_map_ids`. The object's kind comes from the fd itself; every
 * nested pointer not given is zeroed, each given one checked against its count field.
 *
 * @returns the info length the kernel wrote.
 */
export const objInfo: (fd: number, info: Uint8Array, nested?: PointerPairs | null) => number = native.objInfo;

/**
 * The pointer fields of `cmd`'s attr as this package's table knows them (hand-written from the
 * uapi ABI). `BPF_LINK_CREATE`'s depend on the attach type, so pass it for that command.
 */
export const pointerFields: (cmd: number, attachType?: number) => PointerField[] = native.pointerFields;

/** The pointer fields inside `bpf_<kind>_info` (for links, per link type and perf event type). */
export const infoPointerFields: (
  kind: 'prog' | 'map' | 'link' | 'btf',
  linkType?: number,
  perfType?: number,
) => PointerField[] = native.infoPointerFields;

/** Bytes of `cmd`'s attr this package knows; longer attrs must be zero past it. */
export const attrSize: (cmd: number) => number = native.attrSize;

/** The C name of a bpf command, for messages: `commandName(0) === 'BPF_MAP_CREATE'`. */
export const commandName: (cmd: number) => string = native.commandName;

/** Number of bpf commands this package knows (commands are 0 .. commandCount - 1). */
export const commandCount: number = native.commandCount;

/** What kind of object an fd refers to (from `/proc/self/fd`), or 'closed'. */
export const fdKind: (fd: number) => FdKind = native.fdKind;

// ---------------------------------------------------------------------------------------------
// Map hot paths: no allocation, buffers checked against the fd's cached key and value sizes.

/**
 * `BPF_MAP_LOOKUP_ELEM`: copies the value of `key` into `value`.
 * `key` must hold the map's key size (null for maps without keys: queue, stack, bloom filter);
 * `value` the map's value size (per-CPU maps: `roundUp(valueSize, 8) * possibleCpus()`).
 * @returns false when the key is not there (ENOENT), true when `value` was filled.
 */
export const mapLookup: (fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number) => boolean =
  native.mapLookup;

/** `BPF_MAP_UPDATE_ELEM` with `flags` (`UpdateFlags.Any`, `Noexist`, `Exist`, `FLock`). Throws on every failure. */
export const mapUpdate: (fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number) => void =
  native.mapUpdate;

/** `BPF_MAP_DELETE_ELEM`. @returns false when the key was not there. */
export const mapDelete: (fd: number, key: Uint8Array | null) => boolean = native.mapDelete;

/**
 * `BPF_MAP_GET_NEXT_KEY`: writes the key after `key` (the first key when `key` is null) into `next`.
 * @returns false at the end of the map.
 */
export const mapNextKey: (fd: number, key: Uint8Array | null, next: Uint8Array) => boolean =
  native.mapNextKey;

/**
 * `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (queue/stack pop with a null key; hash maps since 5.14).
 * @returns false when the key is not there or the queue is empty.
 */
export const mapLookupAndDelete: (
  fd: number,
  key: Uint8Array | null,
  value: Uint8Array,
  flags?: number,
) => boolean = native.mapLookupAndDelete;

/**
 * The native-call floor for benchmarks (BENCH.md W0): exactly {@link mapLookup}'s argument
 * handling (fd, size cache, key, value, flags, attr on the stack) without the syscall.
 */
export const noop: (fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number) => boolean =
  native.noop;

/**
 * Registers an fd this package did not create (inherited, received over a socket, made by other
 * native code) as a map: asks the kernel for its key and value sizes so the checked paths accept
 * it, replacing whatever the cache held for that fd number. The cache trusts a number until
 * {@link close} (see the README's safety model): call this for any map fd that did not come from
 * `bpf()` or {@link dup}.
 */
export const adoptMap: (fd: number) => void = native.adoptMap;

/** What the size cache holds for `fd`: `[type, keySize, valueSizePerCall]`, or null. */
export const mapSizes: (fd: number) => MapSizes | null = native.mapSizes;

/** Number of possible CPUs (`/sys/devices/system/cpu/possible`), the per-CPU value multiplier. */
export const possibleCpus: () => number = native.possibleCpus;

// ---------------------------------------------------------------------------------------------
// Test runs

/**
 * `BPF_PROG_TEST_RUN` without the generic pointer table: what {@link bpf} does for
 * `Cmd.ProgTestRun`, checked alike, at the price of a map hot path. Every size field of the attr
 * is the length of the buffer it describes (`data_size_in = dataIn.length`,
 * `data_size_out = dataOut.length`, `ctx_size_in/out` likewise), so no argument can make the
 * kernel read or write outside a JS buffer; a null, undefined, empty or detached buffer passes as
 * none (size 0). `repeat`, `flags` (`TestRunFlags`), `cpu` (with `BPF_F_TEST_RUN_ON_CPU`) and
 * `batchSize` (XDP live frames) are u32s; undefined means 0. The attr is built on the stack; no
 * allocation.
 *
 * After the call, also when the kernel fails it, `result` (a Uint32Array of at least 4 elements,
 * {@link TestRunResult} names the slots) holds `[retval, data_size_out, ctx_size_out, duration]`:
 * on `ENOSPC` the sizes are what the program produced, beyond the buffers' room.
 *
 * @throws TypeError / RangeError for a bad argument, SysError when the kernel fails the call
 *   (EINTR is not retried here).
 *
 * @example
 * ```ts
 * const result = new Uint32Array(4);
 * progTestRun(progFd, packet, null, null, null, 1, 0, 0, 0, result);
 * result[TestRunResult.Retval]; // 2 for XDP_PASS
 * ```
 */
export const progTestRun: Native['progTestRun'] = (
  progFd,
  dataIn,
  dataOut,
  ctxIn,
  ctxOut,
  repeat,
  flags,
  cpu,
  batchSize,
  result,
) => {
  if (!(result instanceof Uint32Array))
    throw new TypeError('result must be a Uint32Array of at least 4 elements');
  // Every argument costs a Node-API call natively: without context, flags, cpu and batch size
  // (the common case), a five-argument entry point makes the same checked call. Native checks
  // whatever it is given either way.
  if (ctxIn == null && ctxOut == null && flags === 0 && cpu === 0 && batchSize === 0) {
    nativeTestRunData(progFd, dataIn, dataOut, repeat, result);
  } else {
    nativeTestRun(progFd, dataIn, dataOut, ctxIn, ctxOut, repeat, flags, cpu, batchSize, result);
  }
};
const nativeTestRun = native.progTestRun;
const nativeTestRunData = native.progTestRunData;

/** Slots of {@link progTestRun}'s `result` array. */
export const TestRunResult = {
  /** The program's return value. */
  Retval: 0,
  /** Bytes of output data the program produced (may exceed `dataOut.length` on ENOSPC). */
  DataSizeOut: 1,
  /** Bytes of output context (may exceed `ctxOut.length` on ENOSPC). */
  CtxSizeOut: 2,
  /** Mean nanoseconds per run, as the kernel measured them. */
  Duration: 3,
} as const;

/**
 * The `bpf_attr` fields {@link progTestRun} fills and reads, with their offsets in its native
 * struct (for tests holding it to `@ebpf/uapi`'s `TestRunAttr`).
 */
export const testRunFields: () => TestRunField[] = native.testRunFields;

// ---------------------------------------------------------------------------------------------
// fds

/**
 * Closes an fd and forgets any map sizes cached for it. Refuses an fd a live {@link FdWatcher}
 * holds (close the watcher first).
 */
export const close: (fd: number) => void = native.close;

/**
 * Duplicates an fd (close-on-exec, never 0..2). For a map, the new fd's sizes are asked of the
 * kernel, not copied from `fd`'s cache entry (which would be stale had `fd` been closed behind
 * this package's back and its number reused): the safe way to take in a map fd from elsewhere.
 */
export const dup: (fd: number) => number = native.dup;

// ---------------------------------------------------------------------------------------------
// mmap

/**
 * Maps `length` bytes of a BPF map fd (mmapable array, ring buffer consumer page, arena) or perf
 * event fd at `offset` (a multiple of {@link pageSize}) as a shared, writable mapping, returned
 * as an external ArrayBuffer. It is unmapped by {@link munmap} or when the buffer is
 * garbage-collected.
 *
 * JS may read and write every byte of the buffer, so `writable` must be `true` (its type says so;
 * `false` also throws at run time, for callers without types): pages the kernel maps read-only
 * only (ring buffer data, frozen maps) come from {@link mmapReadOnlyUnchecked}.
 * Arenas created with `BPF_F_SEGV_ON_FAULT` are refused (an unallocated page would fault), and of
 * a perf event fd only the first (metadata) page is mapped (its data pages fault on a write).
 *
 * @throws TypeError for `writable` false, an fd that is neither a BPF map nor a perf event, or
 *   such an arena; RangeError for a bad length or offset; SysError when the kernel refuses (EPERM:
 *   the kernel will not map those pages writable, e.g. ring buffer data or a frozen map).
 */
export const mmap: (fd: number, length: number, writable: true, offset?: number) => ArrayBuffer = native.mmap;

/**
 * **Unchecked**: maps `length` bytes of a BPF map or perf event fd at `offset` read-only
 * (`PROT_READ`), for pages the kernel refuses to map writable or faults on a write: a ring
 * buffer's producer page and data, a frozen map's values, a perf event's ring. Node has no
 * read-only ArrayBuffer, so **a JS write through the returned buffer (or any view of it) raises
 * SIGSEGV and kills the process**. Hand it only to code that reads, behind a facade that exposes
 * no writable view (as `@ebpf/core`'s ring buffer reader does). Reading is safe: the fd and arena
 * checks of {@link mmap} apply.
 */
export const mmapReadOnlyUnchecked: (fd: number, length: number, offset?: number) => ArrayBuffer =
  native.mmapReadOnlyUnchecked;

/**
 * Unmaps a buffer returned by {@link mmap} now and detaches it: every view of it reads as empty,
 * so the memory cannot be reached after this.
 */
export const munmap: (buffer: ArrayBuffer) => void = native.munmap;

/** The system page size (mmap offsets and ring buffer layouts are in pages). */
export const pageSize: () => number = native.pageSize;

// ---------------------------------------------------------------------------------------------
// perf events

/**
 * `perf_event_open(attr, pid, cpu, groupFd, flags | PERF_FLAG_FD_CLOEXEC)`. `attr` is a
 * `struct perf_event_attr` whose `size` field (0 means 64) must fit the buffer; `sigtrap` is
 * refused. For the kprobe and uprobe PMUs, `name` is the NUL-terminated function name or binary
 * path that `config1` points to (native writes its address; config1 is zeroed when there is none).
 * @returns the perf event fd.
 */
export const perfEventOpen: (
  attr: Uint8Array,
  pid: number,
  cpu: number,
  groupFd: number,
  flags?: number,
  name?: Uint8Array | null,
) => number = native.perfEventOpen;

/**
 * The perf ioctls BPF needs, on perf event fds only, integer argument only:
 * {@link PERF_EVENT_IOC_ENABLE}, `DISABLE`, `REFRESH`, `RESET`, `SET_BPF` (arg: program fd),
 * `PAUSE_OUTPUT`. Any other request is refused.
 */
export const ioctl: (fd: number, request: number, arg?: number) => number = native.ioctl;

/** `PERF_EVENT_IOC_ENABLE` (arg 0, or `PERF_IOC_FLAG_GROUP` = 1). */
export const PERF_EVENT_IOC_ENABLE: number = native.PERF_EVENT_IOC_ENABLE;
/** `PERF_EVENT_IOC_DISABLE`. */
export const PERF_EVENT_IOC_DISABLE: number = native.PERF_EVENT_IOC_DISABLE;
/** `PERF_EVENT_IOC_REFRESH`. */
export const PERF_EVENT_IOC_REFRESH: number = native.PERF_EVENT_IOC_REFRESH;
/** `PERF_EVENT_IOC_RESET`. */
export const PERF_EVENT_IOC_RESET: number = native.PERF_EVENT_IOC_RESET;
/** `PERF_EVENT_IOC_SET_BPF` (arg: the program fd). */
export const PERF_EVENT_IOC_SET_BPF: number = native.PERF_EVENT_IOC_SET_BPF;
/** `PERF_EVENT_IOC_PAUSE_OUTPUT` (arg 1 pauses, 0 resumes). */
export const PERF_EVENT_IOC_PAUSE_OUTPUT: number = native.PERF_EVENT_IOC_PAUSE_OUTPUT;

// ---------------------------------------------------------------------------------------------
// readiness

/**
 * Readiness of an fd (ring buffer, perf buffer) on Node's event loop, through libuv's `uv_poll`:
 * no thread per watcher. `onReadable(null)` runs on the loop whenever the fd is readable while
 * started; `onReadable(error)` once if polling fails (the watcher stops).
 *
 * A started watcher keeps the process alive unless {@link FdWatcher.unref | unref()}'d; a stopped
 * one never does. Close the watcher before closing its fd.
 */
export interface FdWatcher extends NativeFdWatcher {
  /** Same as {@link NativeFdWatcher.close | close()}. */
  [Symbol.dispose](): void;
}

/** Constructor of {@link FdWatcher}: `new FdWatcher(fd, onReadable)`. */
export interface FdWatcherConstructor {
  new (fd: number, onReadable: (error: SysError | null) => void): FdWatcher;
  readonly prototype: FdWatcher;
}

const watcherPrototype = native.FdWatcher.prototype as unknown as Record<symbol, unknown>;
if (typeof Symbol.dispose === 'symbol' && !(Symbol.dispose in watcherPrototype)) {
  watcherPrototype[Symbol.dispose] = function dispose(this: FdWatcher): void {
    this.close();
  };
}

/** See {@link FdWatcher}. */
export const FdWatcher: FdWatcherConstructor = native.FdWatcher as unknown as FdWatcherConstructor;

// ---------------------------------------------------------------------------------------------
// sockets and interfaces

/** `setsockopt(socketFd, SOL_SOCKET, SO_ATTACH_BPF, progFd)`: a socket filter program on a socket. */
export const attachSocketFilter: (socketFd: number, progFd: number) => void = native.attachSocketFilter;

/** `setsockopt(socketFd, SOL_SOCKET, SO_DETACH_BPF)`. */
export const detachSocketFilter: (socketFd: number) => void = native.detachSocketFilter;

/** `if_nametoindex(name)`; throws SysError ENODEV when there is no such interface. */
export const ifNameToIndex: (name: string) => number = native.ifNameToIndex;

// ---------------------------------------------------------------------------------------------
// limits

/** `RLIMIT_MEMLOCK` in bytes (Infinity when unlimited). */
export const getMemlockLimit: () => { soft: number; hard: number } = native.getMemlockLimit;

/**
 * Sets the soft `RLIMIT_MEMLOCK` to `bytes` (Infinity for unlimited), raising the hard limit when
 * it is lower (needs CAP_SYS_RESOURCE). Only kernels before 5.11 charge BPF memory to it.
 */
export const setMemlockLimit: (bytes: number) => void = native.setMemlockLimit;

/** The Node-API version the addon is built for. */
export const napiVersion: number = native.napiVersion;
