import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SysError } from './errors.ts';

/** One [offset, name] entry of a pointer-field table. */
export interface PointerField {
  /** Byte offset of the 8-byte pointer field in its struct. */
  readonly offset: number;
  /** The C field name ('insns', 'kprobe_multi.addrs'). */
  readonly name: string;
}

/** One field of the attr a test runner builds: its byte offset and C name ('data_size_out'). */
export interface TestRunField {
  /** Byte offset in `union bpf_attr`'s `test` member. */
  readonly offset: number;
  /** The C field name. */
  readonly name: string;
}

/** The map facts the size cache holds for an fd: [map type, key size, value size per call]. */
export type MapSizes = readonly [type: number, keySize: number, valueSize: number];

/** Pairs of [offset, buffer | null]: where native writes each buffer's address. */
export type PointerPairs = ReadonlyArray<number | Uint8Array | null>;

/** The FdWatcher instance as the addon defines it (poll.cc). */
export interface NativeFdWatcher {
  /** Starts polling for readability (no-op when started). Throws EBADF if the fd was closed. */
  start(): void;
  /** Stops polling; the loop may exit. */
  stop(): void;
  /** Stops and releases the watcher; it cannot be started again. Idempotent. */
  close(): void;
  /** Lets an active watcher keep the process alive again (the default). */
  ref(): this;
  /** An active watcher no longer keeps the process alive. */
  unref(): this;
  /** Whether it is polling. */
  readonly active: boolean;
  /** The watched fd. */
  readonly fd: number;
}

/** The addon's exports, exactly as `src/*.cc` register them. */
export interface Native {
  readonly napiVersion: number;
  readonly commandCount: number;
  setErrorClass(errorClass: new (errno: number, command: string) => Error): void;
  bpf(cmd: number, attr: Uint8Array, pointers?: PointerPairs | null): number;
  bpfPairs(cmd: number, attr: Uint8Array, ...pairs: unknown[]): number;
  objInfo(fd: number, info: Uint8Array, nested?: PointerPairs | null): number;
  pointerFields(cmd: number, attachType?: number): PointerField[];
  infoPointerFields(
    kind: 'prog' | 'map' | 'link' | 'btf',
    linkType?: number,
    perfType?: number,
  ): PointerField[];
  attrSize(cmd: number): number;
  commandName(cmd: number): string;
  fdKind(fd: number): FdKind;
  mapLookup(fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number): boolean;
  mapUpdate(fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number): void;
  mapDelete(fd: number, key: Uint8Array | null): boolean;
  mapNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean;
  mapLookupAndDelete(fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number): boolean;
  testRunner(
    progFd: number,
    dataIn: number,
    dataOut: number,
    ctxIn: number,
    ctxOut: number,
  ): [run: () => number, memory: ArrayBuffer];
  testRunLayout(): [headerBytes: number, slots: number];
  testRunFields(): TestRunField[];
  mapAccessor(
    fd: number,
  ): [
    access: (op: number) => boolean | undefined,
    memory: ArrayBuffer,
    keyOffset: number,
    valueOffset: number,
    nextOffset: number,
  ];
  noop(fd: number, key: Uint8Array | null, value: Uint8Array, flags?: number): boolean;
  close(fd: number): void;
  dup(fd: number): number;
  adoptMap(fd: number): void;
  mapSizes(fd: number): MapSizes | null;
  possibleCpus(): number;
  mmap(fd: number, length: number, writable: boolean, offset?: number): ArrayBuffer;
  mmapReadOnlyUnchecked(fd: number, length: number, offset?: number): ArrayBuffer;
  mmapPerfRingUnchecked(fd: number, length: number): ArrayBuffer;
  munmap(buffer: ArrayBuffer): void;
  ringbufDrain(consumer: ArrayBuffer, producer: ArrayBuffer, out: Uint8Array, spans: Uint32Array): number;
  pageSize(): number;
  perfEventOpen(
    attr: Uint8Array,
    pid: number,
    cpu: number,
    groupFd: number,
    flags?: number,
    name?: Uint8Array | null,
    namePmuTypes?: Uint32Array | null,
  ): number;
  ioctl(fd: number, request: number, arg?: number): number;
  readonly PERF_EVENT_IOC_ENABLE: number;
  readonly PERF_EVENT_IOC_DISABLE: number;
  readonly PERF_EVENT_IOC_REFRESH: number;
  readonly PERF_EVENT_IOC_RESET: number;
  readonly PERF_EVENT_IOC_SET_BPF: number;
  readonly PERF_EVENT_IOC_PAUSE_OUTPUT: number;
  FdWatcher: new (fd: number, onReadable: (error: SysError | null) => void) => NativeFdWatcher;
  attachSocketFilter(socketFd: number, progFd: number): void;
  attachReuseport(socketFd: number, progFd: number): void;
  reuseportSocket(stream: boolean, port: number): number;
  detachReuseport(socketFd: number): void;
  detachSocketFilter(socketFd: number): void;
  ifNameToIndex(name: string): number;
  getMemlockLimit(): { soft: number; hard: number };
  setMemlockLimit(bytes: number): void;
}

/** Kinds `fdKind()` tells apart, from the fd's `/proc/self/fd` link. */
export type FdKind = 'prog' | 'map' | 'link' | 'btf' | 'perf_event' | 'token' | 'other' | 'closed';

/** The package root: `src/` and `dist/` both sit one level below it. */
export const packageRoot: string = fileURLToPath(new URL('..', import.meta.url));

/**
 * `EBPF_SYS_NATIVE=/path/to/ebpf_sys.node` loads that build of the addon instead (the
 * AddressSanitizer run of `scripts/asan.sh` uses it); otherwise node-gyp-build picks it.
 */
function load(): Native {
  const require = createRequire(import.meta.url);
  const override = process.env.EBPF_SYS_NATIVE;
  const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
  let native: Native;
  try {
    native = (override ? require(override) : nodeGypBuild(packageRoot)) as Native;
  } catch (error) {
    if (override || !/No native build was found/.test(String(error))) throw error;
    throw new Error(
      `@ebpf/sys: no prebuilt addon fits ${process.platform}-${process.arch} and none was built from source. ` +
        'Its install script (node-gyp-build) compiles binding.gyp with a C++17 compiler, make and python3; ' +
        'pnpm 10 skips dependency build scripts unless allowed (pnpm approve-builds, or onlyBuiltDependencies), ' +
        'and --ignore-scripts skips them too. Allow it, then run `pnpm rebuild @ebpf/sys` (npm: `npm rebuild @ebpf/sys`).',
      { cause: error },
    );
  }
  native.setErrorClass(SysError);
  return native;
}

/** The loaded addon (a prebuild from `prebuilds/`, or `build/Release` when built from source). */
export const native: Native = load();
