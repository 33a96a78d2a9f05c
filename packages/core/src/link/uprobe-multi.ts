import { AttachType, LinkCreateFlags, LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';
import { functionOffset, withBinary } from './binary.ts';
import { checkCookie, createLink, Link, requireProgramType, type TypedProgram } from './link.ts';
import { cString } from './perf-event.ts';
import { binaryPath, checkPid } from './uprobe.ts';

/** Where a uprobe_multi link probes: many functions or offsets of one binary at once. */
export interface UprobeMultiOptions {
  /** The binary or library: an absolute path, or a bare name looked up (`libc.so.6`). */
  readonly path: string;
  /** Functions of the binary (looked up in its symbol tables)... */
  readonly symbols?: readonly string[];
  /** ...or file offsets of the probed instructions. */
  readonly offsets?: readonly (number | bigint)[];
  /** Only this process (default: every process running the binary). */
  readonly pid?: number;
  /** One `bpf_get_attach_cookie()` value per symbol or offset, in order. */
  readonly cookies?: readonly (number | bigint)[];
  /** Fire on return instead of entry. */
  readonly returnProbe?: boolean;
}

/** A `kprobe` program (loaded with attach type `trace_uprobe_multi`) on many user functions. */
export class UprobeMultiLink extends Link {
  /** @internal Use `attachUprobeMulti`. */
  constructor(fd: number) {
    super(fd, LinkType.UprobeMulti);
  }
}

/** 64-bit values as the kernel reads an array of them. */
export function u64Array(values: readonly bigint[]): Uint8Array {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  for (const [k, v] of values.entries()) view.setBigUint64(k * 8, v, true);
  return bytes;
}

/** A session program runs on entry and on return already: `returnProbe` has no meaning for it. */
export function checkSession(session: boolean, returnProbe: boolean): void {
  if (session && returnProbe)
    throw new InvalidArgumentError(
      'a session program runs on entry and, unless it returned non-zero there, on return: drop returnProbe',
    );
}

/**
 * Attaches a `kprobe` program loaded with attach type `trace_uprobe_multi` to many functions (or
 * offsets) of one binary with one link (`BPF_TRACE_UPROBE_MULTI`, Linux 6.6+), each with its
 * own cookie. A program loaded with `trace_uprobe_session` (Linux 6.13+) runs on entry and,
 * unless it returned non-zero there, on return too (`bpf_session_is_return()` tells which).
 */
export function attachUprobeMulti(program: TypedProgram, options: UprobeMultiOptions): UprobeMultiLink {
  requireProgramType(program, 'attachUprobeMulti', ProgType.Kprobe);
  const attachType = program.attachType;
  if (attachType !== AttachType.TraceUprobeMulti && attachType !== AttachType.TraceUprobeSession) {
    throw new InvalidArgumentError(
      "attachUprobeMulti needs a kprobe program loaded with attachType 'trace_uprobe_multi' or 'trace_uprobe_session'",
    );
  }
  const {
    path: given,
    symbols,
    offsets,
    pid = -1,
    cookies,
    returnProbe = false,
  } = options ?? ({} as UprobeMultiOptions);
  checkSession(attachType === AttachType.TraceUprobeSession, returnProbe);
  const path = binaryPath(given);
  checkPid(pid);
  if ((symbols === undefined) === (offsets === undefined))
    throw new InvalidArgumentError('attachUprobeMulti takes symbols or offsets (one of them)');
  let where: bigint[];
  if (symbols !== undefined) {
    where = withBinary(path, (elf) => symbols.map((s) => BigInt(functionOffset(elf, path, s))));
  } else {
    withBinary(path, () => undefined);
    where = offsets!.map((o) => checkCookie(o, 'offset'));
  }
  if (where.length === 0)
    throw new InvalidArgumentError('attachUprobeMulti needs at least one symbol or offset');
  if (cookies !== undefined && cookies.length !== where.length)
    throw new InvalidArgumentError(
      `cookies has ${cookies.length} values for ${where.length} probes: give one per probe`,
    );
  const pathBytes = cString(path);
  const offsetBytes = u64Array(where);
  const cookieBytes = cookies === undefined ? null : u64Array(cookies.map((c) => checkCookie(c)));
  const fd = createLink({
    program,
    target: 0,
    attachType,
    what: `attaching uprobe_multi to ${where.length} places in ${path}`,
    extra: (attr) => {
      attr
        .pointer('uprobeMultiPath', pathBytes)
        .pointer('uprobeMultiOffsets', offsetBytes)
        .pointer('uprobeMultiCookies', cookieBytes)
        .u32('uprobeMultiCnt', where.length)
        .u32('uprobeMultiFlags', returnProbe ? LinkCreateFlags.UprobeMultiReturn : 0)
        .u32('uprobeMultiPid', pid === -1 ? 0 : pid);
    },
  });
  return new UprobeMultiLink(fd);
}
