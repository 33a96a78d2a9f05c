import { closeSync, openSync } from 'node:fs';
import { AttachType, LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { createLink, Link, type TypedProgram } from './link.ts';

/** A `sk_lookup` or `flow_dissector` program attached to a network namespace. Closing it detaches. */
export class NetnsLink extends Link {
  /** `AttachType.SkLookup` or `AttachType.FlowDissector`. */
  readonly attachType: number;

  /** @internal Use `attachNetns`. */
  constructor(fd: number, attachType: number) {
    super(fd, LinkType.Netns);
    this.attachType = attachType;
  }
}

const hooks: Readonly<Record<number, number>> = {
  [ProgType.SkLookup]: AttachType.SkLookup,
  [ProgType.FlowDissector]: AttachType.FlowDissector,
};

/**
 * Where a namespace is: its file (`/proc/self/ns/net`, `/run/netns/NAME` of `ip netns`), a name
 * `ip netns` made, or an open namespace fd (not closed).
 */
function namespaceFd(netns: string | number): { fd: number; own: boolean } {
  if (typeof netns === 'number') {
    if (!Number.isInteger(netns) || netns < 0)
      throw new InvalidArgumentError(`netns fd must be a non-negative integer, got ${netns}`);
    return { fd: netns, own: false };
  }
  if (typeof netns !== 'string' || netns === '')
    throw new InvalidArgumentError('netns must be a namespace path, an `ip netns` name or an fd');
  const path = netns.includes('/') ? netns : `/run/netns/${netns}`;
  try {
    return { fd: openSync(path, 'r'), own: true };
  } catch (error) {
    throw new NotFoundError(`cannot open network namespace ${path}: ${(error as Error).message}`, {
      cause: error,
      code: (error as NodeJS.ErrnoException).code ?? 'ENOENT',
    });
  }
}

/**
 * Attaches a `sk_lookup` program (which picks the socket for incoming connections and datagrams)
 * or a `flow_dissector` program (which dissects packets for the flow hash) to a network namespace:
 * a path, an `ip netns` name (`/run/netns/NAME`) or an fd. Default: this process's namespace.
 */
export function attachNetns(program: TypedProgram, netns: string | number = '/proc/self/ns/net'): NetnsLink {
  const attachType = hooks[program.type];
  if (attachType === undefined) {
    throw new InvalidArgumentError(
      `attachNetns needs a sk_lookup or flow_dissector program, got program type ${program.type}`,
    );
  }
  const { fd, own } = namespaceFd(netns);
  try {
    const what = `attaching to network namespace ${String(netns)}`;
    return new NetnsLink(createLink({ program, target: fd, attachType, what }), attachType);
  } catch (error) {
    if ((error as { code?: string }).code === 'EINVAL' && !own) {
      throw new InvalidArgumentError(`fd ${netns} is not a network namespace (EINVAL)`, { cause: error });
    }
    throw error;
  } finally {
    if (own) closeSync(fd);
  }
}
