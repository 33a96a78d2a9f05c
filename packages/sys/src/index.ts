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
import { markAsUntransferable } from 'node:worker_threads';
import type { SysError } from './errors.ts';
import {
  type FdKind,
  type MapSizes,
  type NativeFdWatcher,
  native,
  type PointerField,
  type PointerPairs,
  type TestRunField,
} from './native.ts';

export { errnoName, errnoNumber, hintFor, SysError, type SysErrorOptions } from './errors.ts';
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

/** The element calls a {@link MapAccessor} makes, by `access(op)`. */
export const MapOp = {
  /** `BPF_MAP_LOOKUP_ELEM` into `value`; false when the key is not there. */
  Lookup: 0,
  /** `BPF_MAP_UPDATE_ELEM` from `key` and `value`; throws on every failure. */
  Update: 1,
  /** `BPF_MAP_DELETE_ELEM` of `key`; false when it was not there. */
  Delete: 2,
  /** `BPF_MAP_GET_NEXT_KEY` after `key` (the first with `NoKey` set) into `nextKey`; false at the end. */
  NextKey: 3,
  /** `BPF_MAP_LOOKUP_AND_DELETE_ELEM` into `value` (queue/stack pop with `NoKey`); false when absent. */
  LookupAndDelete: 4,
} as const;
/** One of {@link MapOp}. */
export type MapOp = (typeof MapOp)[keyof typeof MapOp];

/** Slots of {@link MapAccessor.header}. */
export const MapAccessSlot = {
  /** Low 32 bits of the call's `flags` (`UpdateFlags`; `FLock` for lookups). */
  FlagsLo: 0,
  /** High 32 bits of the call's `flags`. */
  FlagsHi: 1,
  /** Non-zero: pass no key (queues, stacks, bloom filters, a walk's first key). */
  NoKey: 2,
} as const;

/**
 * The map hot paths bound to one map and to memory of their own: write the key (and value) into
 * the accessor's regions, set `header`, call `access(op)`. No buffer crosses into native code per
 * call, which saves ~40 ns per operation against {@link mapLookup} and friends; callers that
 * encode keys and values themselves (codecs) gain it all.
 */
export interface MapAccessor {
  /**
   * One element call ({@link MapOp}). Returns false where the map* function would (ENOENT), true
   * otherwise, undefined for `Update`. Throws SysError when the kernel fails the call, TypeError
   * once the fd was closed or names a map of other sizes.
   */
  readonly access: (op: MapOp) => boolean | undefined;
  /** The u32 slots named by {@link MapAccessSlot}. */
  readonly header: Uint32Array;
  /** The key region: the map's key size. */
  readonly key: Uint8Array;
  /** The value region: the map's value size per call (per CPU for per-CPU maps). */
  readonly value: Uint8Array;
  /** Where `NextKey` writes the next key: the map's key size. */
  readonly nextKey: Uint8Array;
}

/**
 * An accessor for the map `fd` (known to the size cache). The regions are sized from the cache
 * when it is made; every call checks the fd still names a map of those sizes. The memory cannot
 * be transferred to another thread (a transfer copies it), and detached memory makes calls throw.
 */
export function mapAccessor(fd: number): MapAccessor {
  const [access, memory, keyOffset, valueOffset, nextOffset] = native.mapAccessor(fd);
  markAsUntransferable(memory);
  const [, keySize, valueSize] = native.mapSizes(fd) as MapSizes;
  return {
    access,
    header: new Uint32Array(memory, 0, 3),
    key: new Uint8Array(memory, keyOffset, keySize),
    value: new Uint8Array(memory, valueOffset, valueSize),
    nextKey: new Uint8Array(memory, nextOffset, keySize),
  };
}

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

/** Room in each region of a {@link TestRunner}, in bytes (0 for none). */
export interface TestRunCapacity {
  /** Bytes of packet input (`data_in`). */
  readonly dataIn?: number;
  /** Bytes of packet output (`data_out`). */
  readonly dataOut?: number;
  /** Bytes of context input (`ctx_in`). */
  readonly ctxIn?: number;
  /** Bytes of context output (`ctx_out`). */
  readonly ctxOut?: number;
}

/**
 * `BPF_PROG_TEST_RUN` prepared for one program: the inputs and outputs live in memory the runner
 * owns, and {@link TestRunner.run} takes no argument, so a run costs the syscall and one
 * Node-API call (passing buffers per call cost ~100 ns more). Write the packet into `dataIn`, set
 * the sizes and options in `header` ({@link TestRunSlot} names the slots), call `run()`; the
 * kernel's outputs land in `header` and `dataOut`/`ctxOut`.
 *
 * Every size slot is checked against its region's room on each run, and the regions' addresses
 * never leave native code, so no value written into `header` can make the kernel read or write
 * outside the runner's memory. A size of 0 passes no buffer.
 */
export interface TestRunner {
  /**
   * One test run. Returns the program's return value; also on failure `header` holds
   * `[retval, data_size_out, ctx_size_out, duration]` (on ENOSPC the sizes the program wanted).
   * @throws SysError when the kernel fails the call (EINTR is not retried here), RangeError
   *   when a size slot exceeds its region.
   */
  readonly run: () => number;
  /** The u32 slots named by {@link TestRunSlot}: inputs, then the kernel's outputs. */
  readonly header: Uint32Array;
  /** The packet the kernel reads (`header[DataSizeIn]` bytes of it). */
  readonly dataIn: Uint8Array;
  /** Where the kernel writes the output packet (`header[DataOutRoom]` bytes of room). */
  readonly dataOut: Uint8Array;
  /** The context the kernel reads (`header[CtxSizeIn]` bytes). */
  readonly ctxIn: Uint8Array;
  /** Where the kernel writes the output context (`header[CtxOutRoom]` bytes of room). */
  readonly ctxOut: Uint8Array;
}

/** Slots of {@link TestRunner.header}. */
export const TestRunSlot = {
  /** Out: the program's return value. */
  Retval: 0,
  /** Out: bytes of output data the program produced (may exceed the room on ENOSPC). */
  DataSizeOut: 1,
  /** Out: bytes of output context (may exceed the room on ENOSPC). */
  CtxSizeOut: 2,
  /** Out: mean nanoseconds per run, as the kernel measured them. */
  Duration: 3,
  /** In: bytes of `dataIn` the kernel reads. */
  DataSizeIn: 4,
  /** In: bytes of `dataOut` the kernel may write (0: no output packet). */
  DataOutRoom: 5,
  /** In: bytes of `ctxIn` the kernel reads. */
  CtxSizeIn: 6,
  /** In: bytes of `ctxOut` the kernel may write. */
  CtxOutRoom: 7,
  /** In: runs per call (0 and 1 both mean once). */
  Repeat: 8,
  /** In: `BPF_F_TEST_*` flags (`TestRunFlags`). */
  Flags: 9,
  /** In: the CPU for `BPF_F_TEST_RUN_ON_CPU`. */
  Cpu: 10,
  /** In: XDP live-frame batch size. */
  BatchSize: 11,
} as const;

const [headerBytes, slotCount] = native.testRunLayout();
if (slotCount !== Object.keys(TestRunSlot).length) {
  throw new Error(`@ebpf/sys: the addon has ${slotCount} test-run slots, index.ts names another count`);
}

/**
 * Prepares test runs of the program `progFd` with room for `capacity` bytes in each region. The
 * runner's memory stays valid as long as the runner is reachable; it cannot be transferred to
 * another thread (a transfer copies it), and a runner whose memory was detached refuses to run.
 *
 * @example
 * ```ts
 * const t = testRunner(progFd, { dataIn: 64 });
 * t.header[TestRunSlot.DataSizeIn] = 64;
 * t.run(); // 2 for XDP_PASS
 * t.header[TestRunSlot.Duration]; // ns, as the kernel measured it
 * ```
 */
export function testRunner(progFd: number, capacity: TestRunCapacity = {}): TestRunner {
  const { dataIn = 0, dataOut = 0, ctxIn = 0, ctxOut = 0 } = capacity;
  const [run, memory] = native.testRunner(progFd, dataIn, dataOut, ctxIn, ctxOut);
  markAsUntransferable(memory);
  let offset = headerBytes;
  const region = (n: number): Uint8Array => {
    const view = new Uint8Array(memory, offset, n);
    offset += (n + 7) & ~7;
    return view;
  };
  return {
    run,
    header: new Uint32Array(memory, 0, slotCount),
    dataIn: region(dataIn),
    dataOut: region(dataOut),
    ctxIn: region(ctxIn),
    ctxOut: region(ctxOut),
  };
}

/**
 * The `bpf_attr` fields a {@link TestRunner} fills and reads, with their offsets in its native
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
 * **Unchecked**: maps a perf event's whole ring, its metadata page and `length / pageSize() - 1`
 * data pages (a power of two), read-write in one piece at offset 0. Only a writable mapping makes
 * the kernel respect the reader's `data_tail` (a full ring then drops new records and reports
 * them lost rather than overwriting unread ones). The kernel takes writes on the metadata page
 * only: **a JS write to a data page raises SIGBUS and kills the process**. Hand the data pages
 * only to code that reads, behind a facade (as `@ebpf/core`'s perf buffer reader does).
 */
export const mmapPerfRingUnchecked: (fd: number, length: number) => ArrayBuffer =
  native.mmapPerfRingUnchecked;

/**
 * Unmaps a buffer returned by {@link mmap} now and detaches it: every view of it reads as empty,
 * so the memory cannot be reached after this.
 */
export const munmap: (buffer: ArrayBuffer) => void = native.munmap;

/**
 * Takes the committed records of a ring buffer into memory you own, in one call: `consumer` and
 * `producer` are the ring's consumer page ({@link mmap}, writable) and its producer page and data
 * mapped twice ({@link mmapReadOnlyUnchecked}, `pageSize() + 2 * size` bytes). From the consumer
 * position on, up to a record still being written, it copies the records as they lie in the ring
 * (8-byte headers and discarded records included) into `out` from its start, as many as fit in
 * `out` and in `spans`, and writes each kept record's offset in `out` and its length into `spans`
 * (two words per record; discarded ones get none). Then it publishes the new consumer position
 * once (a release store), giving the space back to producers. Returns the number of records in
 * `spans`, or minus the bytes `out` needs when the first record alone does not fit in it. Reads
 * stay inside the two buffers whatever the positions hold; a consumer position outside the
 * ring's data throws `RangeError`. The copy is yours: read it with plain loads.
 */
export const ringbufDrain: (
  consumer: ArrayBuffer,
  producer: ArrayBuffer,
  out: Uint8Array,
  spans: Uint32Array,
) => number = native.ringbufDrain;

/** The system page size (mmap offsets and ring buffer layouts are in pages). */
export const pageSize: () => number = native.pageSize;

// ---------------------------------------------------------------------------------------------
// perf events

/**
 * `perf_event_open(attr, pid, cpu, groupFd, flags | PERF_FLAG_FD_CLOEXEC)`. `attr` is a
 * `struct perf_event_attr` whose `size` field (0 means 64) must fit the buffer; `sigtrap` is
 * refused. `namePmuTypes` lists the PMU types (the kprobe and uprobe PMUs', from their sysfs
 * `type` files) that take a NUL-terminated function name or binary path through `config1`: for an
 * attr of one of those types native writes the address of a copy of `name` into `config1` (0
 * without a name), so no address comes from JS. A `name` for any other type is a TypeError; their
 * `config1` is passed as given.
 * @returns the perf event fd.
 */
export const perfEventOpen: (
  attr: Uint8Array,
  pid: number,
  cpu: number,
  groupFd: number,
  flags?: number,
  name?: Uint8Array | null,
  namePmuTypes?: Uint32Array | null,
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

/**
 * `setsockopt(SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, progFd)`: a `sk_reuseport` program picks the
 * socket of the socket's SO_REUSEPORT group for each packet.
 */
export const attachReuseport: (socketFd: number, progFd: number) => void = native.attachReuseport;

/** `setsockopt(SOL_SOCKET, SO_DETACH_REUSEPORT_BPF)`. */
export const detachReuseport: (socketFd: number) => void = native.detachReuseport;

/**
 * A loopback socket (TCP listening with `stream`, else UDP) with `SO_REUSEPORT`, bound to
 * `127.0.0.1:port`: sockets on one port form a SO_REUSEPORT group, which Node's own sockets
 * cannot join. The caller closes the fd with {@link close}.
 */
export const reuseportSocket: (stream: boolean, port: number) => number = native.reuseportSocket;

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
