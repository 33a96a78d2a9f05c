import { closeSync, openSync } from 'node:fs';
import { LinkType } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { createLink, Link, type ProgramLike, registerLinkClass } from '../link/link.ts';
import { type AttachTypeLike, attachTypeName, resolveAttachType } from '../program/types.ts';

interface CgroupProgram extends ProgramLike {
  readonly type: number;
  /** The expected attach type the program was loaded with, if any. */
  readonly attachType?: number | undefined;
}

/** A program attached to a cgroup (v2) through a link. Closing it detaches the program. */
export class CgroupLink extends Link {
  /** The hook (`AttachType`), e.g. `AttachType.CgroupInetEgress`. */
  readonly attachType: number;

  /** @internal Use `attachCgroup`. */
  constructor(fd: number, attachType: number) {
    super(fd, LinkType.Cgroup);
    this.attachType = attachType;
  }

  /** The hook's name (`'cgroup_inet_egress'`). */
  get attachTypeName(): string {
    return attachTypeName(this.attachType);
  }
}

registerLinkClass(LinkType.Cgroup, (fd, info) => new CgroupLink(fd, Number(info.raw.cgroupAttachType ?? 0)));

/**
 * Attaches a cgroup program (cgroup_skb, cgroup_sock, cgroup_sock_addr, sock_ops, cgroup_device,
 * cgroup_sysctl, cgroup_sockopt) to a cgroup v2 directory (`'/sys/fs/cgroup/my.slice'`) or an
 * open cgroup fd, at hook `attachType` (default: the attach type the program was loaded with).
 * It applies to every process in the cgroup and its descendants.
 */
export function attachCgroup(
  program: CgroupProgram,
  cgroup: string | number,
  attachType?: AttachTypeLike,
): CgroupLink {
  const type = attachType !== undefined ? resolveAttachType(attachType) : program.attachType;
  if (type === undefined) {
    throw new InvalidArgumentError(
      "attachCgroup needs an attachType ('cgroup_inet_ingress', 'cgroup_inet4_connect'...) when the program was loaded without one",
    );
  }
  let fd: number;
  let ownFd = false;
  if (typeof cgroup === 'number') {
    if (!Number.isInteger(cgroup) || cgroup < 0)
      throw new InvalidArgumentError(`cgroup fd must be a non-negative integer`);
    fd = cgroup;
  } else {
    if (typeof cgroup !== 'string' || cgroup === '')
      throw new InvalidArgumentError('cgroup must be a path or an fd');
    try {
      fd = openSync(cgroup, 'r');
      ownFd = true;
    } catch (error) {
      throw new NotFoundError(`cannot open cgroup ${cgroup}: ${(error as Error).message}`, {
        cause: error,
        code: (error as NodeJS.ErrnoException).code ?? 'ENOENT',
      });
    }
  }
  try {
    // The link holds the cgroup: the fd we opened can go once it exists.
    const linkFd = createLink({
      program,
      target: fd,
      attachType: type,
      what: `attaching to cgroup ${String(cgroup)} at ${attachTypeName(type)}`,
    });
    return new CgroupLink(linkFd, type);
  } finally {
    if (ownFd) closeSync(fd);
  }
}
