import { readFileSync } from 'node:fs';
import * as sys from '@ebpf/sys';
import { AttrBuffer, Cmd, LinkType, PerfEventType, ProgType, RawTracepointOpenAttr } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError, translateSysError } from '../errors.ts';
import { Link, type ProgramLike, registerLinkClass } from '../link/link.ts';
import { linkPerfEvent } from './perf-event.ts';

interface TypedProgram extends ProgramLike {
  readonly type: number;
}

/** A raw tracepoint program attached to a kernel tracepoint. Closing it detaches the program. */
export class RawTracepointLink extends Link {
  /** The tracepoint's name (`sys_enter`), when known. */
  readonly tracepoint: string | undefined;

  /** @internal Use `attachRawTracepoint`. */
  constructor(fd: number, tracepoint: string | undefined) {
    super(fd, LinkType.RawTracepoint);
    this.tracepoint = tracepoint;
  }
}

/** A tracepoint program attached to a kernel tracepoint through a perf event. Closing it detaches. */
export class TracepointLink extends Link {
  /** `category:name` of the tracepoint, when known. */
  readonly tracepoint: string | undefined;

  /** @internal Use `attachTracepoint`. */
  constructor(fd: number, tracepoint: string | undefined) {
    super(fd, LinkType.PerfEvent);
    this.tracepoint = tracepoint;
  }
}

registerLinkClass(LinkType.RawTracepoint, (fd) => new RawTracepointLink(fd, undefined));
registerLinkClass(LinkType.PerfEvent, (fd, info) =>
  info.raw.perfEventType === PerfEventType.Tracepoint ? new TracepointLink(fd, undefined) : undefined,
);

const encoder = new TextEncoder();

/**
 * Attaches a `raw_tracepoint` program to a kernel tracepoint by name (`'sys_enter'`,
 * `'sched_switch'`; `BPF_RAW_TRACEPOINT_OPEN`). The program gets the tracepoint's raw arguments.
 */
export function attachRawTracepoint(program: TypedProgram, tracepoint: string): RawTracepointLink {
  if (program.type !== ProgType.RawTracepoint && program.type !== ProgType.RawTracepointWritable) {
    throw new InvalidArgumentError(
      `attachRawTracepoint needs a raw_tracepoint program, got program type ${program.type}`,
    );
  }
  if (typeof tracepoint !== 'string' || !/^[A-Za-z0-9_]+$/.test(tracepoint)) {
    throw new InvalidArgumentError(
      `tracepoint must be a tracepoint name like 'sys_enter', got '${String(tracepoint)}'`,
    );
  }
  const name = new Uint8Array(tracepoint.length + 1);
  encoder.encodeInto(tracepoint, name);
  const attr = new AttrBuffer(RawTracepointOpenAttr);
  attr.pointer('name', name);
  attr.u32('progFd', program.fd);
  let fd: number;
  try {
    fd = sys.bpf(Cmd.RawTracepointOpen, attr.bytes, attr.pointers);
  } catch (error) {
    const translated = translateSysError(error, `attaching to raw tracepoint ${tracepoint}`);
    if (translated instanceof NotFoundError) {
      throw new NotFoundError(`no raw tracepoint named '${tracepoint}'`, {
        cause: error,
        code: 'ENOENT',
      });
    }
    throw translated;
  }
  return new RawTracepointLink(fd, tracepoint);
}

/** Where tracefs is: its own mount or the old place under debugfs. */
const tracefsRoots = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

/** The id of tracepoint `category:name` from tracefs. */
export function tracepointId(category: string, name: string): number {
  for (const root of tracefsRoots) {
    try {
      return Number.parseInt(readFileSync(`${root}/events/${category}/${name}/id`, 'utf8'), 10);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new NotFoundError(
    `no tracepoint ${category}:${name} (is tracefs mounted? \`mount -t tracefs nodev /sys/kernel/tracing\`)`,
    { code: 'ENOENT' },
  );
}

const PERF_TYPE_TRACEPOINT = 2;

/**
 * Attaches a `tracepoint` program to tracepoint `category:name` (`'syscalls'`, `'sys_enter_getpid'`):
 * opens the tracepoint as a perf event and links the program to it (`BPF_LINK_CREATE`,
 * `BPF_PERF_EVENT`). The program sees the tracepoint's record, as its format file describes.
 */
export function attachTracepoint(program: TypedProgram, category: string, name: string): TracepointLink {
  if (program.type !== ProgType.Tracepoint) {
    throw new InvalidArgumentError(
      `attachTracepoint needs a tracepoint program, got program type ${program.type}`,
    );
  }
  for (const [what, value] of [
    ['category', category],
    ['name', name],
  ] as const) {
    if (typeof value !== 'string' || !/^[A-Za-z0-9_]+$/.test(value)) {
      throw new InvalidArgumentError(
        `tracepoint ${what} must be a name like 'syscalls', got '${String(value)}'`,
      );
    }
  }
  const fd = linkPerfEvent(program, {
    type: PERF_TYPE_TRACEPOINT,
    config: tracepointId(category, name),
    what: `attaching to tracepoint ${category}:${name}`,
  });
  return new TracepointLink(fd, `${category}:${name}`);
}
