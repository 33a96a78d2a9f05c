import { AttachFlags, AttachType, LinkType, ProgType } from '@ebpf/uapi';
import { type BpfError, InvalidArgumentError, NotFoundError } from '../errors.ts';
import { createLink, Link, type TypedProgram } from './link.ts';
import { interfaceIndex } from './xdp.ts';

/** Which way the traffic a tcx program sees flows. */
export type TcxDirection = 'ingress' | 'egress';

/** Where a tcx program goes among the programs already attached to the same hook. */
export interface TcxAttachOptions {
  /** `'ingress'` (default) or `'egress'`. */
  readonly direction?: TcxDirection;
  /** Run before (`'first'`) or after (`'last'`, default) the programs attached already. */
  readonly position?: 'first' | 'last';
}

/** A `sched_cls` program attached to an interface's tcx hook. Closing it detaches the program. */
export class TcxLink extends Link {
  /** Index of the interface. */
  readonly ifindex: number;
  /** Ingress or egress; `undefined` for links opened by pin or id. */
  readonly direction: TcxDirection | undefined;

  /** @internal Use `attachTcx`. */
  constructor(fd: number, ifindex: number, direction: TcxDirection | undefined) {
    super(fd, LinkType.Tcx);
    this.ifindex = ifindex;
    this.direction = direction;
  }
}

/** The direction of a tcx attach type, undefined for other types. */
export function tcxDirection(attachType: number): TcxDirection | undefined {
  return attachType === AttachType.TcxIngress
    ? 'ingress'
    : attachType === AttachType.TcxEgress
      ? 'egress'
      : undefined;
}

/**
 * Attaches a `sched_cls` program to an interface's tcx hook (Linux 6.6+, `BPF_LINK_CREATE` with
 * `BPF_TCX_INGRESS`/`BPF_TCX_EGRESS`): the program sees every packet in that direction and
 * returns `TCX_NEXT` (-1), `TCX_PASS` (0), `TCX_DROP` (2) or `TCX_REDIRECT` (7). Several programs
 * can share a hook; `position` says where this one goes.
 */
export function attachTcx(
  program: TypedProgram,
  iface: string | number,
  options: TcxAttachOptions = {},
): TcxLink {
  if (program.type !== ProgType.SchedCls) {
    throw new InvalidArgumentError(`attachTcx needs a sched_cls program, got program type ${program.type}`);
  }
  const direction = options.direction ?? 'ingress';
  if (direction !== 'ingress' && direction !== 'egress') {
    throw new InvalidArgumentError(`direction must be 'ingress' or 'egress', got '${String(direction)}'`);
  }
  const position = options.position ?? 'last';
  if (position !== 'first' && position !== 'last') {
    throw new InvalidArgumentError(`position must be 'first' or 'last', got '${String(position)}'`);
  }
  const ifindex = interfaceIndex(iface);
  const name = typeof iface === 'string' ? iface : `ifindex ${iface}`;
  try {
    const fd = createLink({
      program,
      target: ifindex,
      attachType: direction === 'ingress' ? AttachType.TcxIngress : AttachType.TcxEgress,
      // BPF_F_BEFORE with no relative program: before every program already on the hook.
      flags: position === 'first' ? AttachFlags.Before : 0,
      what: `attaching tcx (${direction}) to ${name}`,
    });
    return new TcxLink(fd, ifindex, direction);
  } catch (error) {
    if ((error as BpfError).code === 'ENODEV') {
      throw new NotFoundError(`attaching tcx: no network interface ${name}`, {
        cause: error,
        code: 'ENODEV',
      });
    }
    throw error;
  }
}
