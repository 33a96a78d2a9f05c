import { AttachType, LinkCreateFlags, LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { features } from '../features/index.ts';
import { checkCookie, createLink, Link, requireProgramType, type TypedProgram } from './link.ts';
import { checkSession, u64Array } from './uprobe-multi.ts';

/** Kernel functions for one kprobe_multi link. */
export interface KprobeMultiOptions {
  /** Function names... */
  readonly symbols?: readonly string[];
  /** ...or addresses (from `/proc/kallsyms`). */
  readonly addresses?: readonly (number | bigint)[];
  /** One `bpf_get_attach_cookie()` value per function, in order. */
  readonly cookies?: readonly (number | bigint)[];
  /** Fire on return instead of entry. */
  readonly returnProbe?: boolean;
}

/** A `kprobe` program (attach type `trace_kprobe_multi`) on many kernel functions at once. */
export class KprobeMultiLink extends Link {
  /** @internal Use `attachKprobeMulti`. */
  constructor(fd: number) {
    super(fd, LinkType.KprobeMulti);
  }
}

/** Why this kernel has no kprobe_multi links (found by a real link probe), or undefined. */
export function kprobeMultiUnsupported(): string | undefined {
  const probe = features.probeLinkType('kprobe_multi');
  return probe.supported ? undefined : (probe.reason ?? 'not supported');
}

/**
 * Attaches a `kprobe` program loaded with attach type `trace_kprobe_multi` to many kernel
 * functions with one link (fprobe based, Linux 5.18+). A kernel that cannot (no `CONFIG_FPROBE`,
 * no kprobes) gives a `NotSupportedError` with the reason a real link probe found. A program
 * loaded with `trace_kprobe_session` (Linux 6.10+) runs on entry and, unless it returned
 * non-zero there, on return too.
 */
export function attachKprobeMulti(program: TypedProgram, options: KprobeMultiOptions): KprobeMultiLink {
  requireProgramType(program, 'attachKprobeMulti', ProgType.Kprobe);
  const attachType = program.attachType;
  if (attachType !== AttachType.TraceKprobeMulti && attachType !== AttachType.TraceKprobeSession)
    throw new InvalidArgumentError(
      "attachKprobeMulti needs a kprobe program loaded with attachType 'trace_kprobe_multi' or 'trace_kprobe_session'",
    );
  const { symbols, addresses, cookies, returnProbe = false } = options ?? ({} as KprobeMultiOptions);
  checkSession(attachType === AttachType.TraceKprobeSession, returnProbe);
  if ((symbols === undefined) === (addresses === undefined))
    throw new InvalidArgumentError('attachKprobeMulti takes symbols or addresses (one of them)');
  const count = (symbols ?? addresses)!.length;
  if (count === 0) throw new InvalidArgumentError('attachKprobeMulti needs at least one function');
  if (cookies !== undefined && cookies.length !== count)
    throw new InvalidArgumentError(
      `cookies has ${cookies.length} values for ${count} functions: give one per function`,
    );
  const unsupported = kprobeMultiUnsupported();
  if (unsupported !== undefined) throw new NotSupportedError('kprobe_multi links', unsupported);
  // Names go back to back, NUL-terminated: native builds the array of pointers the kernel takes.
  const names =
    symbols === undefined ? null : new TextEncoder().encode(symbols.map((s) => `${s}\0`).join(''));
  const addrs = addresses === undefined ? null : u64Array(addresses.map((a) => checkCookie(a, 'address')));
  const cookieBytes = cookies === undefined ? null : u64Array(cookies.map((c) => checkCookie(c)));
  const fd = createLink({
    program,
    target: 0,
    attachType,
    what: `attaching kprobe_multi to ${count} kernel functions`,
    extra: (attr) =>
      attr
        .pointer('kprobeMultiSyms', names)
        .pointer('kprobeMultiAddrs', addrs)
        .pointer('kprobeMultiCookies', cookieBytes)
        .u32('kprobeMultiCnt', count)
        .u32('kprobeMultiFlags', returnProbe ? LinkCreateFlags.KprobeMultiReturn : 0),
  });
  return new KprobeMultiLink(fd);
}
