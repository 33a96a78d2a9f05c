import * as sys from '@ebpf/sys';
import { AttrBuffer, Cmd, EnableStatsAttr, ProgBindMapAttr, ProgType, StatsType } from '@ebpf/uapi';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { KernelObject } from '../kernel-object.ts';
import type { ProgInfo } from '../object-info.ts';
import { fdFromId, objectIds, progInfo, readObjectInfo } from '../object-info.ts';
import { getPinned, kindOfFd, PinnableObject } from '../pin.ts';
import { bootTime, listObjects } from '../system.ts';
import { encodeFuncInfo, encodeLineInfo, type ProgramBtf } from './btf-info.ts';
import { decodeXlated, encodeInstructions, type MapLike, type ProgramInstructions } from './instructions.ts';
import { kernelFunctionId } from './kernel-btf.ts';
import { type LogLevel, loadProgram } from './load.ts';
import { type ProgramFunction, replacedFunctionId } from './replace-target.ts';
import {
  checkRunOptions,
  runFlags,
  TestRunner,
  type TestRunnerOptions,
  testRunError,
  writeRunInputs,
} from './test-run.ts';
import {
  type AttachTypeLike,
  attachTypeName,
  defaultExpectedAttachType,
  type ProgramTypeLike,
  programTypeName,
  resolveAttachType,
  resolveProgramType,
} from './types.ts';

/** What `BpfProgram.load` takes. */
export interface ProgramLoadOptions {
  /** Program type, by name (`'xdp'`, `'socket_filter'`) or `ProgType` value. */
  readonly type: ProgramTypeLike;
  /**
   * The program: instructions from `@ebpf/asm` (map references by name are resolved against
   * `maps`), or raw bytecode (8 bytes per instruction slot, little endian).
   */
  readonly instructions: ProgramInstructions;
  /** License string; GPL-only helpers need a GPL-compatible one (`'GPL'`, `'Dual MIT/GPL'`). */
  readonly license: string;
  /** Name shown by tools (up to 15 characters: letters, digits, `_` and `.`). */
  readonly name?: string;
  /** Expected attach type, for program types that need one at load time (cgroup_sock_addr...). */
  readonly attachType?: AttachTypeLike;
  /**
   * The kernel function a tracing or LSM program attaches to (fentry, fexit, fmod_ret, lsm): its
   * name (`'do_unlinkat'`, looked up in vmlinux BTF) or its BTF type id; for an `ext` (freplace)
   * program, the global function of a loaded program it replaces (`{ program, function }`).
   */
  readonly attachTo?: string | number | ProgramFunction;
  /** `BPF_F_*` load flags (`ProgLoadFlags`). */
  readonly flags?: number;
  /** `KERNEL_VERSION()` for kprobes on old kernels; ignored by current ones. */
  readonly kernelVersion?: number;
  /**
   * Verifier log level: 0 (default) for no log (the log is still fetched when loading fails),
   * 1 for the path the verifier walked, 2 for every instruction, 4 for statistics. With a level,
   * the log of a successful load is `prog.verifierLog`.
   */
  readonly logLevel?: LogLevel;
  /** First log buffer size in bytes (default 64 KiB); it grows until the log fits. */
  readonly logSize?: number;
  /** Maps the instructions refer to by name. */
  readonly maps?: Readonly<Record<string, MapLike>>;
  /** The program's BTF and its func_info/line_info (what `Collection.load` passes for object programs). */
  readonly btf?: ProgramBtf;
  /** `fd_array`: the module BTF fds kfunc calls name by index (`off`; index 0 stands for vmlinux). */
  readonly fdArray?: readonly number[];
}

/** What `prog.run` takes. Every field is optional; a program that needs no input runs on nothing. */
export interface RunOptions {
  /** Packet (or other input) data. */
  readonly data?: Uint8Array;
  /**
   * Where the kernel writes the output data: reuse one buffer across runs and a run allocates
   * nothing. Default: a new buffer with room for the data to grow. When it is too small for what
   * the program produced, the run is repeated with a bigger buffer, which `data` then views.
   */
  readonly dataOut?: Uint8Array;
  /** Context struct input (`struct __sk_buff`, `struct xdp_md`...), for types that take one. */
  readonly context?: Uint8Array;
  /** How many times the kernel runs the program (default 1); `duration` is the mean. */
  readonly repeat?: number;
  /** `BPF_F_TEST_*` flags (`TestRunFlags`). */
  readonly flags?: number;
  /** CPU to run on (sets `BPF_F_TEST_RUN_ON_CPU` for you). */
  readonly cpu?: number;
}

/** What a test run returns. */
export interface RunResult {
  /** The program's return value (XDP action, filter verdict...). */
  readonly retval: number;
  /** The output data (a view of `dataOut` or of a new buffer), empty without input data. */
  readonly data: Uint8Array;
  /** The context as the program left it, when `context` was given. */
  readonly context: Uint8Array | undefined;
  /** Mean time of one run in nanoseconds, as the kernel measured it. */
  readonly duration: number;
}

/** A program's info, with names for its type (`bpf_prog_info`). */
export interface ProgramInfo extends ProgInfo {
  /** Program type name (`'xdp'`). */
  readonly typeName: string;
  /** Number of instructions after the kernel's rewrites (`xlatedProgLen / 8`). */
  readonly xlatedInsns: number;
  /** Bytes of machine code, 0 when not JIT-compiled. */
  readonly jitedLen: number;
  /** Whether the program was JIT-compiled. */
  readonly jited: boolean;
  /** Load time as a `Date` (the kernel reports nanoseconds since boot). */
  readonly loadedAt: Date;
}

/** Room for the data a program may add: XDP headroom plus a tail, enough for most rewrites. */
const outputSlack = 512;

const S = sys.TestRunSlot;

/**
 * A loaded eBPF program: owns its fd. Load one with `BpfProgram.load`, run it with `run`, attach
 * it with the `attach*` functions, release it with `close()` or `using`.
 *
 * @example
 * ```ts
 * import { exit, mov64, R0 } from '@ebpf/asm';
 * import { BpfProgram } from '@ebpf/core';
 *
 * using program = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
 * program.run({ data: new Uint8Array(64) }).retval; // 2, XDP_PASS
 * ```
 */
export class BpfProgram extends PinnableObject {
  /** Program type (`ProgType`). */
  readonly type: ProgType;
  /** Program name given at load (or read back from the kernel). */
  readonly name: string;
  /** Expected attach type given at load, when there was one. */
  readonly attachType: number | undefined;
  /** The verifier's log of this load, when `logLevel` asked for one. */
  readonly verifierLog: string | undefined;
  /** Made by the first `run`; see `#testRunner`. */
  #runner: sys.TestRunner | undefined;

  private constructor(
    fd: number,
    type: ProgType,
    name: string,
    attachType: number | undefined,
    log?: string,
  ) {
    super(fd, 'program');
    this.type = type;
    this.name = name;
    this.attachType = attachType;
    this.verifierLog = log;
  }

  /** Program type name (`'xdp'`). */
  get typeName(): string {
    return programTypeName(this.type);
  }

  /**
   * Loads a program into the kernel (`BPF_PROG_LOAD`). Throws `VerifierError` (with the log, the
   * failing instruction and a one-line reason) when the verifier rejects it, `NotSupportedError`
   * when the kernel cannot load this kind of program, `InvalidArgumentError` for bad options.
   */
  static load(options: ProgramLoadOptions): BpfProgram {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('options must be an object');
    const type = resolveProgramType(options.type);
    const name = options.name ?? '';
    if (typeof name !== 'string' || name.length > 15 || !/^[A-Za-z0-9_.]*$/.test(name)) {
      throw new InvalidArgumentError(
        `name must be up to 15 characters of letters, digits, '_' and '.', got '${String(options.name)}'`,
      );
    }
    if (typeof options.license !== 'string' || options.license === '' || options.license.includes('\0')) {
      throw new InvalidArgumentError("license must be a non-empty string such as 'GPL' or 'Dual MIT/GPL'");
    }
    let expectedAttachType: number | undefined;
    if (options.attachType !== undefined) expectedAttachType = resolveAttachType(options.attachType);
    else {
      const fallback = defaultExpectedAttachType(type);
      if (fallback === null) {
        throw new InvalidArgumentError(
          `attachType: ${programTypeName(type)} programs need an attachType at load time`,
        );
      }
      expectedAttachType = fallback;
    }
    const logLevel = options.logLevel ?? 0;
    if (!Number.isInteger(logLevel) || logLevel < 0 || logLevel > 7) {
      throw new InvalidArgumentError(
        `logLevel must be 0 to 7 (1 = walk, 2 = every instruction, 4 = stats), got ${logLevel}`,
      );
    }
    if (options.logSize !== undefined && (!Number.isInteger(options.logSize) || options.logSize <= 0)) {
      throw new InvalidArgumentError(`logSize must be a positive integer, got ${options.logSize}`);
    }
    const flags = options.flags ?? 0;
    if (!Number.isInteger(flags) || flags < 0)
      throw new InvalidArgumentError(`flags must be a non-negative integer`);
    let attachBtfId: number | undefined;
    let attachProgFd: number | undefined;
    if (typeof options.attachTo === 'string') attachBtfId = kernelFunctionId(options.attachTo);
    else if (typeof options.attachTo === 'object' && options.attachTo !== null) {
      if (type !== ProgType.Ext)
        throw new InvalidArgumentError('attachTo { program, function } is for ext (freplace) programs');
      attachBtfId = replacedFunctionId(options.attachTo);
      attachProgFd = options.attachTo.program.fd;
    } else if (options.attachTo !== undefined) {
      if (!Number.isInteger(options.attachTo) || options.attachTo <= 0) {
        throw new InvalidArgumentError(
          `attachTo must be a kernel function name or its BTF type id, got ${String(options.attachTo)}`,
        );
      }
      attachBtfId = options.attachTo;
    }
    const bytecode = encodeInstructions(options.instructions, options.maps ?? {});
    const { fd, log } = loadProgram({
      type,
      bytecode,
      license: options.license,
      name,
      expectedAttachType,
      attachBtfId,
      attachBtfObjFd: undefined,
      attachProgFd,
      flags,
      kernelVersion: options.kernelVersion ?? 0,
      logLevel,
      logSize: options.logSize,
      fdArray: options.fdArray === undefined ? undefined : fdArrayBytes(options.fdArray),
      btf:
        options.btf === undefined
          ? undefined
          : {
              fd: options.btf.handle.fd,
              funcInfo: encodeFuncInfo(options.btf.funcInfo),
              lineInfo: encodeLineInfo(options.btf.lineInfo),
            },
      feature: featureName(type, expectedAttachType, options.attachTo),
    });
    return new BpfProgram(fd, type, name, expectedAttachType, log);
  }

  /**
   * Wraps an existing program fd. The program gets its own duplicate of `fd`: the caller keeps
   * (and still closes) the one it passed.
   */
  static fromFd(fd: number): BpfProgram {
    if (!Number.isInteger(fd) || fd < 0)
      throw new InvalidArgumentError(`fd must be a non-negative integer, got ${fd}`);
    const kind = kindOfFd(fd);
    if (kind !== 'prog') {
      throw new InvalidArgumentError(
        `fd ${fd} is ${kind ? `a BPF ${kind}` : 'not a BPF object'}, not a program`,
      );
    }
    let owned: number;
    try {
      owned = sys.dup(fd);
    } catch (error) {
      throw translateSysError(error, `duplicating program fd ${fd}`);
    }
    return BpfProgram.#adopt(owned);
  }

  /** Opens the program pinned at `path`. */
  static fromPin(path: string): BpfProgram {
    return BpfProgram.#adopt(getPinned(path, 'prog')).openedFrom(path);
  }

  /** Opens the program with kernel-wide id `id` (as `bpftool prog` lists them). */
  static fromId(id: number): BpfProgram {
    return BpfProgram.#adopt(fdFromId('prog', id));
  }

  /** The ids of every program loaded on the system. */
  static ids(): number[] {
    return [...objectIds('prog')];
  }

  /**
   * The info of every program loaded on the system (programs that go away while listing are
   * skipped).
   */
  static list(): ProgramInfo[] {
    return listObjects('prog', (fd) => describe(progInfo(fd)));
  }

  /**
   * Turns on the kernel's run statistics for every program (`BPF_ENABLE_STATS`): `info().runCnt`
   * and `runTimeNs` count from then on, until the returned handle is closed (it costs a little
   * on every program run, so keep it on only while measuring).
   */
  static enableStats(): StatsHandle {
    const attr = new AttrBuffer(EnableStatsAttr);
    attr.u32('type', StatsType.RunTime);
    let fd: number;
    try {
      fd = sys.bpf(Cmd.EnableStats, attr.bytes, attr.pointers);
    } catch (error) {
      throw translateSysError(error, 'enabling BPF run statistics');
    }
    return new StatsHandle(fd);
  }

  static #adopt(fd: number): BpfProgram {
    try {
      const info = progInfo(fd);
      return new BpfProgram(fd, info.type as ProgType, info.name, undefined);
    } catch (error) {
      sys.close(fd);
      throw error;
    }
  }

  /** A second, independent owner of the same kernel program (a duplicated fd). */
  clone(): BpfProgram {
    let fd: number;
    try {
      fd = this.dupFd();
    } catch (error) {
      throw translateSysError(error, `duplicating ${this.#what()}`);
    }
    return new BpfProgram(fd, this.type, this.name, this.attachType, this.verifierLog);
  }

  /** What the kernel reports about this program (`bpf_prog_info`). */
  info(): ProgramInfo {
    return describe(progInfo(this.fd));
  }

  /** The kernel-wide id. */
  get id(): number {
    return this.info().id;
  }

  /** The instructions as the kernel holds them after its rewrites (decoded by `@ebpf/asm`). */
  xlated(): ReturnType<typeof decodeXlated> {
    return decodeXlated(this.xlatedBytes());
  }

  /** The kernel's rewritten bytecode, raw. Empty when the kernel hides it (kptr restrictions). */
  xlatedBytes(): Uint8Array {
    return this.#code('xlatedProgLen', 'xlatedProgInsns');
  }

  /** The JIT-compiled machine code; empty when the program is interpreted. */
  jited(): Uint8Array {
    return this.#code('jitedProgLen', 'jitedProgInsns');
  }

  /** Reads one of the program's code arrays from its info: first the length, then the bytes. */
  #code(lengthField: string, bufferField: string): Uint8Array {
    const fd = this.fd;
    const length = Number(readObjectInfo(fd, 'prog')[lengthField] ?? 0);
    if (length === 0) return new Uint8Array(0);
    const buffer = new Uint8Array(new ArrayBuffer(length));
    readObjectInfo(fd, 'prog', { [lengthField]: length, [bufferField]: buffer });
    return buffer;
  }

  /**
   * Binds a map to the program (`BPF_PROG_BIND_MAP`): the map lives as long as the program even
   * though no instruction refers to it (metadata maps, maps only user space reads).
   */
  bindMap(map: MapLike): void {
    const attr = new AttrBuffer(ProgBindMapAttr);
    attr.u32('progFd', this.fd);
    attr.u32('mapFd', map.fd);
    try {
      sys.bpf(Cmd.ProgBindMap, attr.bytes, attr.pointers);
    } catch (error) {
      throw translateSysError(error, `binding a map to ${this.#what()}`);
    }
  }

  /**
   * Runs the program in the kernel on test input (`BPF_PROG_TEST_RUN`). Interrupted runs are
   * retried; an output buffer too small for what the program produced is replaced by a bigger one
   * and the run repeated. Throws `NotSupportedError` for program types the kernel cannot test-run.
   */
  run(options: RunOptions = {}): RunResult {
    const fd = this.fd;
    const { data, context, dataOut, cpu = 0 } = options;
    const flags = runFlags(options.flags, options.cpu);
    const { shape, repeat } = checkRunOptions(this, options);
    if (data !== undefined && !(data instanceof Uint8Array))
      throw new InvalidArgumentError('data must be a Uint8Array');
    if (dataOut !== undefined && !(dataOut instanceof Uint8Array)) {
      throw new InvalidArgumentError('dataOut must be a Uint8Array');
    }
    if (context !== undefined && !(context instanceof Uint8Array)) {
      throw new InvalidArgumentError('context must be a Uint8Array');
    }
    const dataLength = data === undefined ? 0 : data.length;
    const contextLength = context === undefined ? 0 : context.length;
    // Room for the output: the caller's buffer, or the input plus what the program may add.
    let outRoom = dataOut !== undefined ? dataOut.length : dataLength > 0 ? dataLength + outputSlack : 0;
    let contextRoom = shape.contextOut ? contextLength : 0;

    for (;;) {
      const t = this.#testRunner(fd, dataLength, outRoom, contextLength, contextRoom);
      const h = t.header;
      if (data !== undefined) t.dataIn.set(data);
      if (context !== undefined) t.ctxIn.set(context);
      writeRunInputs(h, dataLength, outRoom, contextLength, contextRoom, repeat, flags, cpu);
      let retval: number;
      try {
        retval = t.run();
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'EINTR') continue;
        // The program grew the packet or context beyond the room: the kernel says how much it
        // wrote in full; rerun with room for it.
        if (code === 'ENOSPC' && outRoom > 0 && (h[S.DataSizeOut] as number) > outRoom) {
          outRoom = h[S.DataSizeOut] as number;
          continue;
        }
        if (code === 'ENOSPC' && contextRoom > 0 && (h[S.CtxSizeOut] as number) > contextRoom) {
          contextRoom = h[S.CtxSizeOut] as number;
          continue;
        }
        throw testRunError(error, this, this.#what(), h);
      }
      const outLength = Math.min(h[S.DataSizeOut] as number, outRoom);
      const contextOutLength = Math.min(h[S.CtxSizeOut] as number, contextRoom);
      return {
        retval,
        data: outRoom === 0 ? empty : copyOut(t.dataOut, outLength, dataOut),
        context:
          shape.contextInPlace && context !== undefined
            ? copyOut(t.ctxIn, contextLength, undefined)
            : contextRoom === 0
              ? undefined
              : copyOut(t.ctxOut, contextOutLength, undefined),
        duration: h[S.Duration] as number,
      };
    }
  }

  /**
   * Prepares this program for many test runs: the packet, context and options live in the
   * runner, so each `runner.run()` is the syscall and nothing else (no copy, no allocation).
   * Use it for loops and benchmarks; `run()` is the one-call form.
   */
  testRunner(options: TestRunnerOptions = {}): TestRunner {
    return new TestRunner(this, this.#what(), options);
  }

  /**
   * The program's test runner, with at least the room asked for in each region. Runs reuse it:
   * the inputs are copied into its memory and a run passes no argument to native code, which is
   * what makes `run` cost little more than the syscall. It grows when a run needs more room.
   */
  #testRunner(fd: number, dataIn: number, dataOut: number, ctxIn: number, ctxOut: number): sys.TestRunner {
    const t = this.#runner;
    if (
      t !== undefined &&
      dataIn <= t.dataIn.length &&
      dataOut <= t.dataOut.length &&
      ctxIn <= t.ctxIn.length &&
      ctxOut <= t.ctxOut.length
    ) {
      return t;
    }
    this.#runner = sys.testRunner(fd, {
      dataIn: Math.max(dataIn, t?.dataIn.length ?? 0),
      dataOut: Math.max(dataOut, t?.dataOut.length ?? 0),
      ctxIn: Math.max(ctxIn, t?.ctxIn.length ?? 0),
      ctxOut: Math.max(ctxOut, t?.ctxOut.length ?? 0),
    });
    return this.#runner;
  }

  /**
   * Runs the program `repeat` times in the kernel on `data` and returns the mean time of one run
   * in nanoseconds (the kernel's own measurement, without syscall overhead).
   */
  benchmark(data: Uint8Array, repeat = 1_000_000): number {
    return this.run({ data, dataOut: empty, repeat }).duration;
  }

  #what(): string {
    return `${this.typeName} program${this.name ? ` "${this.name}"` : ''}`;
  }
}

const empty = new Uint8Array(0);

/**
 * The first `length` bytes a run wrote into the runner's `region`: copied into `into` when it has
 * room (a view of it is returned), into a new buffer otherwise.
 */
function copyOut(region: Uint8Array, length: number, into: Uint8Array | undefined): Uint8Array {
  const produced = region.subarray(0, length);
  if (into === undefined || into.length < length) return produced.slice();
  into.set(produced);
  return length === into.length ? into : into.subarray(0, length);
}

/** Keeps BPF run statistics on while open (see `BpfProgram.enableStats`). */
export class StatsHandle extends KernelObject {
  /** @internal */
  constructor(fd: number) {
    super(fd, 'statistics handle');
  }
}

/** How errors name the program kind: the attach flavour for tracing programs ('fentry'), else the type. */
function featureName(
  type: ProgType,
  attachType: number | undefined,
  attachTo: ProgramLoadOptions['attachTo'],
): string {
  if (type === ProgType.Tracing || type === ProgType.Lsm || type === ProgType.Ext) {
    const name = attachType === undefined ? undefined : attachTypeName(attachType);
    switch (name) {
      case 'trace_fentry':
        return 'fentry';
      case 'trace_fexit':
        return 'fexit';
      case 'modify_return':
        return 'fmod_ret';
      case 'trace_iter':
        return typeof attachTo === 'string' ? `iterator ${attachTo.replace(/^bpf_iter_/, '')}` : 'iterator';
      case 'lsm_mac':
        return 'lsm';
      default:
        return `${programTypeName(type)} programs`;
    }
  }
  return `${programTypeName(type)} programs`;
}

function describe(info: ProgInfo): ProgramInfo {
  const bootMs = bootTime();
  return Object.freeze({
    ...info,
    typeName: programTypeName(info.type),
    xlatedInsns: info.xlatedProgLen / 8,
    jitedLen: info.jitedProgLen,
    jited: info.jitedProgLen > 0,
    loadedAt: new Date(bootMs + Number(info.loadTime / 1_000_000n)),
  });
}

function fdArrayBytes(fds: readonly number[]): Uint8Array {
  if (!fds.every((fd) => Number.isInteger(fd) && fd >= 0 && fd <= 0x7fffffff))
    throw new InvalidArgumentError('fdArray must hold open fds (non-negative integers)');
  return new Uint8Array(Int32Array.from(fds).buffer);
}
