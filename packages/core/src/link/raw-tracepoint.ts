import * as sys from '@ebpf/sys';
import { AttrBuffer, Cmd, LinkType, ProgType, RawTracepointOpenAttr } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError, translateSysError } from '../errors.ts';
import { checkCookie, Link, requireProgramType, type TypedProgram } from './link.ts';

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

/** Options of `attachRawTracepoint`. */
export interface RawTracepointOptions {
  /** What `bpf_get_attach_cookie()` returns in the program (Linux 6.10+). */
  readonly cookie?: number | bigint;
}

const encoder = new TextEncoder();

/**
 * Attaches a `raw_tracepoint` program to a kernel tracepoint by name (`'sys_enter'`,
 * `'sched_switch'`; `BPF_RAW_TRACEPOINT_OPEN`). The program gets the tracepoint's raw arguments.
 */
export function attachRawTracepoint(
  program: TypedProgram,
  tracepoint: string,
  options: RawTracepointOptions = {},
): RawTracepointLink {
  requireProgramType(program, 'attachRawTracepoint', ProgType.RawTracepoint, ProgType.RawTracepointWritable);
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
  if (options.cookie !== undefined) attr.u64('cookie', checkCookie(options.cookie));
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
