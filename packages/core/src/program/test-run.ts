/**
 * Test runs (`BPF_PROG_TEST_RUN`) in a loop: a `TestRunner` holds the packet, context and options
 * in memory the kernel call reads directly, so a run passes nothing to native code, copies nothing
 * and allocates nothing. `prog.run` is the one-call convenience built on the same native runner.
 */
import * as sys from '@ebpf/sys';
import { ProgType, TestRunFlags } from '@ebpf/uapi';
import {
  ClosedError,
  InvalidArgumentError,
  KernelRejectedError,
  NotSupportedError,
  translateSysError,
} from '../errors.ts';

const S = sys.TestRunSlot;
const u32Max = 0xffffffff;

/** What `prog.testRunner` takes: the room to reserve, and the options every run uses. */
export interface TestRunnerOptions {
  /** Bytes of input packet (default 0: none). `runner.data` is that long. */
  readonly dataSize?: number;
  /**
   * Bytes of room for the output packet (default 0: the kernel copies none back). A program that
   * produces more makes `run()` throw, naming the size it needs.
   */
  readonly dataOutSize?: number;
  /** Bytes of context (`struct xdp_md`, `struct __sk_buff`...), in and out (default 0: none). */
  readonly contextSize?: number;
  /** How many times the kernel runs the program per `run()` (default: once); `duration` is the mean. */
  readonly repeat?: number;
  /** `BPF_F_TEST_*` flags (`TestRunFlags`). */
  readonly flags?: number;
  /** CPU to run on (sets `BPF_F_TEST_RUN_ON_CPU` for you). */
  readonly cpu?: number;
}

/** What a runner needs of its program: its fd while open, and its type for errors. */
export interface RunTarget {
  /** Throws `ClosedError` once the program is closed. */
  readonly fd: number;
  readonly closed: boolean;
  readonly type: ProgType;
  readonly typeName: string;
}

/**
 * A program prepared for many test runs: write the packet into `data` (and the context into
 * `context`), call `run()`, read `retval`-style results from its return value and the outputs
 * from `dataOut`, `dataOutLength`, `contextOut` and `duration`. Make one with `prog.testRunner()`;
 * it is valid while the program is open.
 *
 * @example
 * ```ts
 * const runner = prog.testRunner({ dataSize: 64 });
 * runner.data.set(packet);
 * for (let i = 0; i < 1_000_000; i++) if (runner.run() !== XdpAction.Pass) throw new Error('dropped');
 * ```
 */
export class TestRunner {
  /** The input packet the kernel reads (`dataLength` bytes of it). */
  readonly data: Uint8Array;
  /** Where the kernel writes the output packet; `dataOutLength` bytes of it after a run. */
  readonly dataOut: Uint8Array;
  /** The input context the kernel reads. */
  readonly context: Uint8Array;
  /** The context as the program left it, after a run. */
  readonly contextOut: Uint8Array;
  readonly #program: RunTarget;
  /** `xdp program "name"`, for messages. */
  readonly #what: string;
  readonly #runner: sys.TestRunner;
  readonly #header: Uint32Array;
  /** Whether the kernel writes the context back into `context` (syscall programs). */
  readonly #inPlace: boolean;

  /** @internal Use `prog.testRunner()`. */
  constructor(program: RunTarget, what: string, options: TestRunnerOptions) {
    const { dataSize = 0, dataOutSize = 0, contextSize = 0, cpu = 0 } = options;
    for (const [name, value] of [
      ['dataSize', dataSize],
      ['dataOutSize', dataOutSize],
      ['contextSize', contextSize],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 2 ** 30) {
        throw new InvalidArgumentError(`${name} must be an integer from 0 to 2^30, got ${value}`);
      }
    }
    const flags = runFlags(options.flags, options.cpu);
    const { shape, repeat } = checkRunOptions(program, options);
    const contextOutSize = shape.contextOut ? contextSize : 0;
    this.#inPlace = shape.contextInPlace;
    this.#program = program;
    this.#what = what;
    this.#runner = sys.testRunner(program.fd, {
      dataIn: dataSize,
      dataOut: dataOutSize,
      ctxIn: contextSize,
      ctxOut: contextOutSize,
    });
    const h = this.#runner.header;
    writeRunInputs(h, dataSize, dataOutSize, contextSize, contextOutSize, repeat, flags, cpu);
    this.#header = h;
    this.data = this.#runner.dataIn;
    this.dataOut = this.#runner.dataOut;
    this.context = this.#runner.ctxIn;
    // A syscall program's context comes back where it went in.
    this.contextOut = shape.contextInPlace ? this.#runner.ctxIn : this.#runner.ctxOut;
  }

  /** Bytes of `data` the kernel reads (default: all of it); set it for shorter packets. */
  get dataLength(): number {
    return this.#header[S.DataSizeIn] as number;
  }

  /** Throws `InvalidArgumentError` when `length` is not an integer from 0 to `data.length`. */
  set dataLength(length: number) {
    if (!Number.isInteger(length) || length < 0 || length > this.data.length) {
      throw new InvalidArgumentError(
        `dataLength must be an integer from 0 to ${this.data.length}, got ${length}`,
      );
    }
    this.#header[S.DataSizeIn] = length;
  }

  /** Bytes of output packet the last run produced (`dataOut.subarray(0, dataOutLength)`). */
  get dataOutLength(): number {
    return Math.min(this.#header[S.DataSizeOut] as number, this.dataOut.length);
  }

  /** Bytes of output context the last run produced. */
  get contextOutLength(): number {
    if (this.#inPlace) return this.#header[S.CtxSizeIn] as number;
    return Math.min(this.#header[S.CtxSizeOut] as number, this.contextOut.length);
  }

  /** Mean nanoseconds of one run in the last `run()`, as the kernel measured it. */
  get duration(): number {
    return this.#header[S.Duration] as number;
  }

  /**
   * Runs the program once (or `repeat` times) on `data` and `context`; returns its return value.
   * Interrupted calls are retried. Throws `ClosedError` once the program is closed,
   * `NotSupportedError` for program types without test runs, `InvalidArgumentError` when the
   * output does not fit the room reserved for it.
   */
  run(): number {
    const program = this.#program;
    if (program.closed) throw new ClosedError(`test-running ${this.#what}: the program is closed`);
    for (;;) {
      try {
        return this.#runner.run();
      } catch (error) {
        if ((error as { code?: string }).code === 'EINTR') continue;
        throw testRunError(error, program, this.#what, this.#header);
      }
    }
  }
}

/**
 * Writes every input slot of a runner's header: the sizes the kernel reads and may write, repeat,
 * flags, cpu, and no XDP live-frame batch. All of them, each time: nothing is left from whoever
 * wrote the memory before.
 */
export function writeRunInputs(
  h: Uint32Array,
  dataIn: number,
  dataOut: number,
  ctxIn: number,
  ctxOut: number,
  repeat: number,
  flags: number,
  cpu: number,
): void {
  h[S.DataSizeIn] = dataIn;
  h[S.DataOutRoom] = dataOut;
  h[S.CtxSizeIn] = ctxIn;
  h[S.CtxOutRoom] = ctxOut;
  h[S.Repeat] = repeat;
  h[S.Flags] = flags;
  h[S.Cpu] = cpu;
  h[S.BatchSize] = 0;
}

/**
 * What the kernel's test run of a program type takes. Most types copy an output context back
 * and repeat on request; raw tracepoints and syscall programs refuse an output context, a
 * repeat count and a duration (bpf_prog_test_run_raw_tp, bpf_prog_test_run_syscall), and a
 * syscall program's context comes back in the input buffer. Only raw tracepoints choose a CPU.
 */
export interface RunShape {
  /** Whether the kernel takes room for an output context (ctx_out). */
  readonly contextOut: boolean;
  /** Whether the kernel takes a repeat count. */
  readonly repeat: boolean;
  /** Whether the kernel writes the context back into the input (syscall programs). */
  readonly contextInPlace: boolean;
  /** Whether `cpu` (BPF_F_TEST_RUN_ON_CPU) is allowed. */
  readonly cpu: boolean;
}

const usualShape: RunShape = { contextOut: true, repeat: true, contextInPlace: false, cpu: false };
const shapes = new Map<number, RunShape>([
  [ProgType.RawTracepoint, { contextOut: false, repeat: false, contextInPlace: false, cpu: true }],
  [ProgType.Syscall, { contextOut: false, repeat: false, contextInPlace: true, cpu: false }],
]);

/**
 * Checks a run's repeat count and CPU against what `program`'s type can take (an
 * `InvalidArgumentError` here rather than a bare EINVAL from the kernel). Returns the type's
 * shape and the repeat count to send (0, "once", for types without repeats).
 */
export function checkRunOptions(
  program: RunTarget,
  options: { readonly repeat?: number | undefined; readonly cpu?: number | undefined },
): { shape: RunShape; repeat: number } {
  const shape = shapes.get(program.type) ?? usualShape;
  const repeat = options.repeat ?? 0;
  checkU32('repeat', repeat);
  checkU32('cpu', options.cpu ?? 0);
  if (!shape.repeat && repeat > 1) {
    throw new InvalidArgumentError(
      `repeat: the kernel runs ${program.typeName} programs once per test run, got repeat ${repeat}`,
    );
  }
  if (options.cpu !== undefined && !shape.cpu) {
    throw new InvalidArgumentError(
      `cpu: only raw_tracepoint test runs can choose a CPU (BPF_F_TEST_RUN_ON_CPU); ${program.typeName} programs run on the calling one`,
    );
  }
  return { shape, repeat: shape.repeat ? repeat : 0 };
}

/** `BPF_F_TEST_*` flags for a run: the caller's, plus `BPF_F_TEST_RUN_ON_CPU` when `cpu` is given. */
export function runFlags(flags: number | undefined, cpu: number | undefined): number {
  const all = cpu === undefined ? (flags ?? 0) : (flags ?? 0) | TestRunFlags.TestRunOnCpu;
  checkU32('flags', all, flags);
  return all;
}

/** Throws `InvalidArgumentError` unless `value` is a u32 (`shown` is what the caller passed). */
export function checkU32(name: string, value: number, shown: unknown = value): void {
  if (!Number.isInteger(value) || value < 0 || value > u32Max) {
    throw new InvalidArgumentError(`${name} must be a 32-bit unsigned integer, got ${shown}`);
  }
}

/** Program types whose test runs take a packet. */
const packetTypes = new Set<number>([
  ProgType.SocketFilter,
  ProgType.SchedCls,
  ProgType.SchedAct,
  ProgType.Xdp,
  ProgType.CgroupSkb,
  ProgType.LwtIn,
  ProgType.LwtOut,
  ProgType.LwtXmit,
  ProgType.LwtSeg6local,
  ProgType.SkSkb,
  ProgType.FlowDissector,
]);

/**
 * The error a failed test run of `program` (`what`, for messages) throws, given the runner's
 * header after the call.
 */
export function testRunError(error: unknown, program: RunTarget, what: string, header: Uint32Array): Error {
  const code = (error as { code?: string }).code;
  // SysError names every errno (ENOTSUPP is the kernel-internal 524), so the code decides.
  if (code === 'ENOTSUPP' || code === 'EOPNOTSUPP') {
    return new NotSupportedError(
      `test runs of ${program.typeName} programs`,
      'the kernel has no BPF_PROG_TEST_RUN for this program type',
      { cause: error },
    );
  }
  if (code === 'ENOSPC') {
    const [produced, room, part, option] =
      (header[S.DataSizeOut] as number) > (header[S.DataOutRoom] as number)
        ? [header[S.DataSizeOut], header[S.DataOutRoom], 'packet', 'dataOutSize']
        : [header[S.CtxSizeOut], header[S.CtxOutRoom], 'context', 'contextSize'];
    return new KernelRejectedError(
      `test-running ${what}: the program produced ${produced} bytes of output ${part}, the runner has room for ${room}; prepare it with ${option} of at least ${produced}`,
      { cause: error, code },
    );
  }
  if (code === 'EINVAL' && packetTypes.has(program.type) && (header[S.DataSizeIn] as number) < 14) {
    return new KernelRejectedError(
      `test-running ${what}: the kernel wants a packet in data (an Ethernet frame, at least 14 bytes)`,
      { cause: error, code },
    );
  }
  return translateSysError(error, `test-running ${what}`);
}
