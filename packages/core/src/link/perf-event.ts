import * as sys from '@ebpf/sys';
import { AttachType, AttrBuffer, LinkType, PerfEventAttr, PerfType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotSupportedError, translateSysError } from '../errors.ts';
import { pmuType } from '../system.ts';
import {
  checkCookie,
  createLink,
  Link,
  type ProgramLike,
  requireProgramType,
  type TypedProgram,
} from './link.ts';

/**
 * Perf events as attach points: tracepoints, uprobes, kprobes and sampled software or hardware
 * events are opened as perf events, and a BPF link (`BPF_LINK_CREATE`, `BPF_PERF_EVENT`) ties the
 * program to the event. The link holds the event, so the event's fd is closed once the link exists.
 */

/** What goes into a `struct perf_event_attr` for an attach point. */
export interface PerfEventRequest {
  /** PMU type: a `PerfType` or a dynamic PMU's (kprobe, uprobe). */
  readonly type: number;
  readonly config: number | bigint;
  /** `config2`: the uprobe's file offset, the kprobe's offset in its function. */
  readonly config2?: number | bigint;
  /** Sample every `samplePeriod` events (default 1)... */
  readonly samplePeriod?: number | bigint;
  /** ...or `frequency` times a second. */
  readonly frequency?: number;
  /** The process to watch, -1 for all (then `cpu` must be given). */
  readonly pid?: number;
  /** The CPU to watch, -1 for any (then `pid` must be given). */
  readonly cpu?: number;
  /** The kprobe's function or the uprobe's binary path (native passes its address in `config1`). */
  readonly name?: string;
  /** What `bpf_get_attach_cookie()` returns in the program. */
  readonly cookie?: bigint;
  /** What is being attached, in words, for error messages. */
  readonly what: string;
}

let namePmus: Uint32Array | undefined;

/** The types of the PMUs that take a name in `config1` (kprobe, uprobe) this kernel has. */
export function namePmuTypes(): Uint32Array {
  namePmus ??= Uint32Array.from(
    ['kprobe', 'uprobe'].flatMap((name) => {
      try {
        return [pmuType(name)];
      } catch {
        return []; // that PMU is absent: nothing of its type is opened
      }
    }),
  );
  return namePmus;
}

/** A NUL-terminated UTF-8 copy of `text`, as the kernel reads strings. */
export function cString(text: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.byteLength(text) + 1);
  new TextEncoder().encodeInto(text, bytes);
  return bytes;
}

/** Opens the perf event `request` describes; returns its fd (the caller owns it). */
export function openPerfEvent(request: PerfEventRequest): number {
  const attr = new AttrBuffer(PerfEventAttr)
    .u32('type', request.type)
    .u32('size', PerfEventAttr.size)
    .u64('config', request.config)
    .u32('wakeupEvents', 1)
    .u64('config2', request.config2 ?? 0);
  if (request.frequency !== undefined) attr.u64('freq', 1).u64('sampleFreq', request.frequency);
  else attr.u64('samplePeriod', request.samplePeriod ?? 1);
  const pid = request.pid ?? -1;
  // System-wide events need a CPU; the program runs on whichever CPU hits the event anyway.
  const cpu = request.cpu ?? (pid === -1 ? 0 : -1);
  const name = request.name === undefined ? null : cString(request.name);
  try {
    return sys.perfEventOpen(attr.bytes, pid, cpu, -1, 0, name, namePmuTypes());
  } catch (error) {
    throw translateSysError(error, `opening the perf event for ${request.what}`);
  }
}

/** Opens a perf event and links `program` to it; returns the link fd. */
export function linkPerfEvent(program: ProgramLike, request: PerfEventRequest): number {
  const perfFd = openPerfEvent(request);
  try {
    return createLink({
      program,
      target: perfFd,
      attachType: AttachType.PerfEvent,
      what: request.what,
      ...(request.cookie === undefined
        ? {}
        : { extra: (attr) => attr.u64('perfEventBpfCookie', request.cookie as bigint) }),
    });
  } finally {
    sys.close(perfFd);
  }
}

/** Event types by name, for `attachPerfEvent`'s `type`. */
const perfTypes: Readonly<Record<string, number>> = {
  hardware: PerfType.Hardware,
  software: PerfType.Software,
  hw_cache: PerfType.HwCache,
  raw: PerfType.Raw,
  breakpoint: PerfType.Breakpoint,
};

/** What `attachPerfEvent` samples. */
export interface PerfEventOptions {
  /** `'software'`, `'hardware'`, `'hw_cache'`, `'raw'` or a `PerfType`/dynamic PMU number. */
  readonly type: keyof typeof perfTypes | number;
  /** The event: a `PerfSwId` for software events (`PerfSwId.CpuClock`), a `PerfHwId` for hardware ones. */
  readonly config: number | bigint;
  /** Run the program every `samplePeriod` events (for cpu-clock: nanoseconds)... */
  readonly samplePeriod?: number | bigint;
  /** ...or about `frequency` times a second. */
  readonly frequency?: number;
  /** The CPU to sample (default: any CPU the process runs on; required without `pid`). */
  readonly cpu?: number;
  /** The process to sample (default: every process, on `cpu`). */
  readonly pid?: number;
  /** What `bpf_get_attach_cookie()` returns in the program. */
  readonly cookie?: number | bigint;
}

/** A `perf_event` program run by a sampled perf event. Closing it stops the event. */
export class PerfEventLink extends Link {
  /** The event's `perf_event_attr` type and config, when known. */
  readonly eventType: number | undefined;
  readonly config: bigint | undefined;

  /** @internal Use `attachPerfEvent`. */
  constructor(fd: number, eventType: number | undefined, config: bigint | undefined) {
    super(fd, LinkType.PerfEvent);
    this.eventType = eventType;
    this.config = config;
  }
}

function checkIndex(value: number | undefined, what: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < -1)) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer (or -1 for any), got ${value}`);
  }
}

/**
 * Attaches a `perf_event` program to a sampled perf event: software events (`cpu-clock`,
 * `task-clock`, page faults...), hardware counters where the machine has a PMU, or any PMU by
 * number. The program runs on every sample, every `samplePeriod` events or `frequency` times a
 * second, for process `pid` and/or on CPU `cpu`.
 */
export function attachPerfEvent(program: TypedProgram, options: PerfEventOptions): PerfEventLink {
  requireProgramType(program, 'attachPerfEvent', ProgType.PerfEvent);
  const type = typeof options?.type === 'string' ? perfTypes[options.type] : options?.type;
  if (type === undefined || !Number.isInteger(type) || type < 0) {
    throw new InvalidArgumentError(
      `type must be one of ${Object.keys(perfTypes).join(', ')} or a PMU type number, got '${String(options?.type)}'`,
    );
  }
  const { samplePeriod, frequency, cpu, pid } = options;
  if (samplePeriod !== undefined && frequency !== undefined)
    throw new InvalidArgumentError('give samplePeriod or frequency, not both');
  if (frequency !== undefined && (!Number.isInteger(frequency) || frequency <= 0))
    throw new InvalidArgumentError(
      `frequency must be a positive integer (samples a second), got ${frequency}`,
    );
  checkIndex(cpu, 'cpu');
  checkIndex(pid, 'pid');
  if ((pid ?? -1) === -1 && (cpu ?? -1) === -1)
    throw new InvalidArgumentError('a perf event watches a process (pid), a CPU (cpu) or both: give one');
  const config = BigInt(options.config);
  const what = `attaching to perf event type ${type} config ${config}`;
  try {
    const fd = linkPerfEvent(program, {
      type,
      config,
      ...(samplePeriod === undefined ? {} : { samplePeriod }),
      ...(frequency === undefined ? {} : { frequency }),
      pid: pid ?? -1,
      cpu: cpu ?? -1,
      ...(options.cookie === undefined ? {} : { cookie: checkCookie(options.cookie) }),
      what,
    });
    return new PerfEventLink(fd, type, config);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (type === PerfType.Hardware && (code === 'ENOENT' || code === 'EOPNOTSUPP')) {
      throw new NotSupportedError(
        'hardware perf events',
        'this machine exposes no hardware PMU (a VM without one)',
        {
          cause: error,
          code,
        },
      );
    }
    throw error;
  }
}
