import { closeSync, openSync, readFileSync, statfsSync } from 'node:fs';
import { LinkType } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { type AttachTypeLike, attachTypeName, resolveAttachType } from '../program/types.ts';
import { createLink, Link, type TypedProgram } from './link.ts';

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

/**
 * Attaches a cgroup program (cgroup_skb, cgroup_sock, cgroup_sock_addr, sock_ops, cgroup_device,
 * cgroup_sysctl, cgroup_sockopt) to a cgroup v2 directory (`'/sys/fs/cgroup/my.slice'`) or an
 * open cgroup fd, at hook `attachType` (default: the attach type the program was loaded with).
 * It applies to every process in the cgroup and its descendants.
 */
export function attachCgroup(
  program: TypedProgram,
  cgroup: string | number,
  attachType?: AttachTypeLike,
): CgroupLink {
  const type = attachType !== undefined ? resolveAttachType(attachType) : program.attachType;
  if (type === undefined) {
    throw new InvalidArgumentError(
      "attachCgroup needs an attachType ('cgroup_inet_ingress', 'cgroup_inet4_connect'...) when the program was loaded without one",
    );
  }
  const { fd, own: ownFd } = openCgroupTarget(cgroup);
  try {
    // The link holds the cgroup: the fd we opened can go once it exists.
    const linkFd = createLink({
      program,
      target: fd,
      attachType: type,
      what: `attaching to cgroup ${String(cgroup)} at ${attachTypeName(type)}`,
    });
    return new CgroupLink(linkFd, type);
  } catch (error) {
    if (ownFd || (error as { code?: string }).code !== 'EBADF') throw error;
    throw new InvalidArgumentError(`fd ${cgroup} is not an open cgroup2 directory (EBADF)`, { cause: error });
  } finally {
    if (ownFd) closeSync(fd);
  }
}

/**
 * The fd of a cgroup given as a cgroup2 directory path (opened here: `own`, the caller closes it)
 * or as an open fd (`own` false).
 */
export function openCgroupTarget(cgroup: string | number): { fd: number; own: boolean } {
  if (typeof cgroup === 'number') {
    if (!Number.isInteger(cgroup) || cgroup < 0)
      throw new InvalidArgumentError(`cgroup fd must be a non-negative integer`);
    return { fd: cgroup, own: false };
  }
  if (typeof cgroup !== 'string' || cgroup === '')
    throw new InvalidArgumentError('cgroup must be a path or an fd');
  requireCgroup2(cgroup);
  return { fd: openCgroup(cgroup), own: true };
}

/** `statfs(2)` f_type of cgroup v2 (`CGROUP2_SUPER_MAGIC`). */
const cgroup2Magic = 0x63677270;

/** The usual mount points of cgroup v2: unified hosts, then hybrid ones. */
const usualMounts = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

function openCgroup(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (error) {
    throw cannotOpen(path, error);
  }
}

function cannotOpen(path: string, error: unknown): NotFoundError {
  return new NotFoundError(`cannot open cgroup ${path}: ${(error as Error).message}`, {
    cause: error,
    code: (error as NodeJS.ErrnoException).code ?? 'ENOENT',
  });
}

/** Refuses a path outside cgroup v2, saying where cgroup v2 is (the kernel would only say EBADF). */
function requireCgroup2(path: string): void {
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch (error) {
    throw cannotOpen(path, error);
  }
  if (type === cgroup2Magic) return;
  const mount = cgroup2Mount();
  throw new InvalidArgumentError(
    `${path} is not a cgroup2 directory (its filesystem type is 0x${type.toString(16)}); ${
      mount === undefined
        ? `no cgroup2 filesystem is mounted (looked in /proc/self/mountinfo and at ${usualMounts.join(' and ')}): mount one with \`mount -t cgroup2 none /sys/fs/cgroup\``
        : `cgroup2 is mounted at ${mount}: pass it or a directory under it`
    }`,
  );
}

/**
 * Where cgroup v2 is mounted: `/sys/fs/cgroup` on unified hosts, `/sys/fs/cgroup/unified` on
 * hybrid ones, else the first cgroup2 mount of `/proc/self/mountinfo`; undefined when none is.
 */
export function cgroup2Mount(): string | undefined {
  let mountinfo = '';
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    // No procfs: only the usual places can tell.
  }
  const mounts = cgroup2Mounts(mountinfo);
  return usualMounts.find((path) => mounts.includes(path) || isCgroup2(path)) ?? mounts[0];
}

function isCgroup2(path: string): boolean {
  try {
    return statfsSync(path).type === cgroup2Magic;
  } catch {
    return false;
  }
}

/** The mount points of the cgroup2 filesystems listed in `mountinfo` (proc(5) format). */
export function cgroup2Mounts(mountinfo: string): string[] {
  const mounts: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [mine, theirs] = line.split(' - ');
    if (theirs?.split(' ')[0] !== 'cgroup2') continue;
    const mountPoint = mine?.split(' ')[4];
    // Spaces and other special characters are written as octal escapes (\040).
    if (mountPoint)
      mounts.push(mountPoint.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8))));
  }
  return mounts;
}
