import { readFileSync } from 'node:fs';
import * as sys from '@ebpf/sys';
import { AttachType, LinkType, ProgType, XdpFlags } from '@ebpf/uapi';
import { BpfError, InvalidArgumentError, NotFoundError, NotSupportedError } from '../errors.ts';
import { createLink, Link, type TypedProgram } from './link.ts';

/**
 * Where an XDP program runs: `'generic'` in the kernel's network stack (any interface, slowest),
 * `'driver'` in the driver before any allocation (needs driver support, veth has it), `'offload'`
 * on the NIC itself (needs an offload-capable NIC and a program loaded for it). Without a mode
 * `attachXdp` tries driver mode first and falls back to generic mode; `link.mode` says which.
 */
export type XdpMode = 'generic' | 'driver' | 'offload';

/** Options of `attachXdp`. */
export interface XdpAttachOptions {
  /** Where the program runs; default: driver mode when the driver supports it, else generic (`link.mode` says which). */
  readonly mode?: XdpMode;
}

const modeFlags: Record<XdpMode, number> = {
  generic: XdpFlags.SkbMode,
  driver: XdpFlags.DrvMode,
  offload: XdpFlags.HwMode,
};

/** An XDP program attached to a network interface through a link. Closing it detaches the program. */
export class XdpLink extends Link {
  /** Index of the interface the program is attached to. */
  readonly ifindex: number;
  /** The mode the program runs in; `undefined` for links opened by pin or id. */
  readonly mode: XdpMode | undefined;

  /** @internal Use `attachXdp`. */
  constructor(fd: number, ifindex: number, mode: XdpMode | undefined) {
    super(fd, LinkType.Xdp);
    this.ifindex = ifindex;
    this.mode = mode;
  }
}

/** The index of a network interface given by name or index; throws `NotFoundError` for an unknown name. */
export function interfaceIndex(iface: string | number): number {
  if (typeof iface === 'number') {
    if (!Number.isInteger(iface) || iface <= 0) {
      throw new InvalidArgumentError(`interface index must be a positive integer, got ${iface}`);
    }
    return iface;
  }
  if (typeof iface !== 'string' || iface === '' || iface.length > 15 || iface.includes('/')) {
    throw new InvalidArgumentError(
      `interface must be a name (up to 15 characters) or an index, got '${String(iface)}'`,
    );
  }
  try {
    const index = sys.ifNameToIndex(iface);
    if (index > 0) return index;
  } catch {
    // Fall back to sysfs below, which also gives the clearer error.
  }
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${iface}/ifindex`, 'utf8'), 10);
  } catch {
    throw new NotFoundError(`no network interface named '${iface}'`, { code: 'ENODEV' });
  }
}

/**
 * Attaches an XDP program to a network interface (given by name or index) through a BPF link
 * (`BPF_LINK_CREATE`, attach type `BPF_XDP`), in the mode asked for. Returns the link: the
 * program stays attached until the link is closed (or, if pinned, unpinned and closed).
 * Throws `NotSupportedError` when the interface cannot run XDP in that mode, and a `BpfError`
 * with code 'EBUSY' when another program is attached to it in the same mode.
 */
export function attachXdp(
  program: TypedProgram,
  iface: string | number,
  options: XdpAttachOptions = {},
): XdpLink {
  if (program.type !== ProgType.Xdp) {
    throw new InvalidArgumentError(`attachXdp needs an xdp program, got program type ${program.type}`);
  }
  const mode = options.mode;
  if (mode !== undefined && !Object.hasOwn(modeFlags, mode)) {
    throw new InvalidArgumentError(`mode must be 'generic', 'driver' or 'offload', got '${String(mode)}'`);
  }
  const ifindex = interfaceIndex(iface);
  const name = typeof iface === 'string' ? iface : `ifindex ${iface}`;
  if (mode !== undefined) return new XdpLink(linkXdp(program, ifindex, name, mode), ifindex, mode);
  // No mode asked for: driver mode where the driver has native XDP, generic mode elsewhere, as
  // the kernel would choose, but tried in that order so the link knows which one it got.
  try {
    return new XdpLink(linkXdp(program, ifindex, name, 'driver'), ifindex, 'driver');
  } catch (error) {
    if (!(error instanceof NotSupportedError)) throw error;
  }
  return new XdpLink(linkXdp(program, ifindex, name, 'generic'), ifindex, 'generic');
}

/** BPF_LINK_CREATE for XDP in one mode, with errors that say what to do. */
function linkXdp(program: TypedProgram, ifindex: number, name: string, mode: XdpMode): number {
  try {
    return createLink({
      program,
      target: ifindex,
      attachType: AttachType.Xdp,
      flags: modeFlags[mode],
      what: `attaching XDP (${mode} mode) to ${name}`,
    });
  } catch (error) {
    const code = (error as BpfError).code;
    if ((code === 'EOPNOTSUPP' || code === 'ENOTSUPP' || code === 'EINVAL') && mode !== 'generic') {
      throw new NotSupportedError(
        `XDP ${mode} mode on ${name}`,
        mode === 'driver'
          ? "its driver has no native XDP support; use mode 'generic'"
          : 'it cannot offload XDP programs (and the program must be loaded for the device)',
        { cause: error, code },
      );
    }
    if (code === 'ENODEV') {
      throw new NotFoundError(`attaching XDP: no network interface ${name}`, {
        cause: error,
        code,
      });
    }
    if (code === 'EBUSY' || code === 'EEXIST') {
      throw new BpfError(
        `attaching XDP to ${name}: another XDP program is attached there already (${code}); detach it first`,
        { cause: error, code },
      );
    }
    throw error;
  }
}
