import { AttachType, LinkType, NetfilterFlags, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { createLink, Link, requireProgramType, type TypedProgram } from './link.ts';

/** Where a netfilter program hooks. */
export interface NetfilterOptions {
  /** Protocol family: `NFPROTO_IPV4` (2) or `NFPROTO_IPV6` (10). */
  readonly pf: number;
  /** The hook: `NF_INET_PRE_ROUTING` (0), `LOCAL_IN` (1), `FORWARD` (2), `LOCAL_OUT` (3), `POST_ROUTING` (4). */
  readonly hooknum: number;
  /** Order among the hook's functions (lower runs first); not the two extremes of an int32. */
  readonly priority: number;
  /** Reassemble fragments before the program runs (`BPF_F_NETFILTER_IP_DEFRAG`). */
  readonly defrag?: boolean;
}

/** A `netfilter` program on a netfilter hook. Closing it unhooks the program. */
export class NetfilterLink extends Link {
  /** @internal Use `attachNetfilter`. */
  constructor(
    fd: number,
    readonly hook: NetfilterOptions | undefined,
  ) {
    super(fd, LinkType.Netfilter);
  }
}

/** Protocol families netfilter BPF links take. */
const families = new Set([2 /* NFPROTO_IPV4 */, 10 /* NFPROTO_IPV6 */]);

/**
 * Attaches a `netfilter` program to a netfilter hook (`{ pf, hooknum, priority }`): it sees every
 * packet passing the hook and returns `NF_ACCEPT` (1) or `NF_DROP` (0).
 */
export function attachNetfilter(program: TypedProgram, options: NetfilterOptions): NetfilterLink {
  requireProgramType(program, 'attachNetfilter', ProgType.Netfilter);
  const { pf, hooknum, priority, defrag = false } = options ?? ({} as NetfilterOptions);
  if (!families.has(pf))
    throw new InvalidArgumentError(`pf must be NFPROTO_IPV4 (2) or NFPROTO_IPV6 (10), got ${String(pf)}`);
  if (!Number.isInteger(hooknum) || hooknum < 0 || hooknum > 4)
    throw new InvalidArgumentError(`hooknum must be an NF_INET_* hook from 0 to 4, got ${String(hooknum)}`);
  if (!Number.isInteger(priority) || priority <= -(2 ** 31) || priority >= 2 ** 31 - 1)
    throw new InvalidArgumentError(
      `priority must be an int32 strictly between its extremes, got ${String(priority)}`,
    );
  const what = `attaching to netfilter pf ${pf} hook ${hooknum} priority ${priority}`;
  try {
    const fd = createLink({
      program,
      target: 0,
      attachType: AttachType.Netfilter,
      what,
      extra: (attr) =>
        attr
          .u32('netfilterPf', pf)
          .u32('netfilterHooknum', hooknum)
          .s32('netfilterPriority', priority)
          .u32('netfilterFlags', defrag ? NetfilterFlags.NetfilterIpDefrag : 0),
    });
    return new NetfilterLink(fd, { pf, hooknum, priority, defrag });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (defrag && code === 'EOPNOTSUPP') {
      throw new NotSupportedError('netfilter defrag', 'the nf_defrag module of that family is not loaded', {
        cause: error,
        code,
      });
    }
    throw error;
  }
}
