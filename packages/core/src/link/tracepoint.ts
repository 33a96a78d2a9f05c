import { readFileSync } from 'node:fs';
import { LinkType, PerfType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { checkCookie, Link, requireProgramType, type TypedProgram } from './link.ts';
import { linkPerfEvent } from './perf-event.ts';

/** A tracepoint program attached to a kernel tracepoint through a perf event. Closing it detaches. */
export class TracepointLink extends Link {
  /** `category:name` of the tracepoint, when known (links opened by id know only the name). */
  readonly tracepoint: string | undefined;

  /** @internal Use `attachTracepoint`. */
  constructor(fd: number, tracepoint: string | undefined) {
    super(fd, LinkType.PerfEvent);
    this.tracepoint = tracepoint;
  }
}

/** Options of `attachTracepoint`. */
export interface TracepointOptions {
  /** What `bpf_get_attach_cookie()` returns in the program. */
  readonly cookie?: number | bigint;
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

/**
 * Attaches a `tracepoint` program to tracepoint `category:name` (`'syscalls'`, `'sys_enter_getpid'`):
 * opens the tracepoint as a perf event and links the program to it (`BPF_LINK_CREATE`,
 * `BPF_PERF_EVENT`). The program sees the tracepoint's record, as its format file describes.
 */
export function attachTracepoint(
  program: TypedProgram,
  category: string,
  name: string,
  options: TracepointOptions = {},
): TracepointLink {
  requireProgramType(program, 'attachTracepoint', ProgType.Tracepoint);
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
    type: PerfType.Tracepoint,
    config: tracepointId(category, name),
    ...(options.cookie === undefined ? {} : { cookie: checkCookie(options.cookie) }),
    what: `attaching to tracepoint ${category}:${name}`,
  });
  return new TracepointLink(fd, `${category}:${name}`);
}
