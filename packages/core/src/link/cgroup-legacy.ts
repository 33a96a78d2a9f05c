import { closeSync, fstatSync } from 'node:fs';
import * as sys from '@ebpf/sys';
import { AttachFlags, AttrBuffer, Cmd, LinkType, ProgAttachAttr, QueryAttr, QueryFlags } from '@ebpf/uapi';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { type AttachTypeLike, attachTypeName, resolveAttachType } from '../program/types.ts';
import { type Attachment, detachOnce } from './attachment.ts';
import { openCgroupTarget } from './cgroup.ts';
import { Link, type ProgramLike, type TypedProgram } from './link.ts';

/**
 * Cgroup programs attached the way before links (`BPF_PROG_ATTACH`): the attachment belongs to
 * the cgroup, not to this process, and stays until `detach()` (or the cgroup goes). Kept for what
 * links cannot do: `override` mode, and programs another tool attached this way.
 */

/** How programs share one cgroup hook (`BPF_F_ALLOW_OVERRIDE`, `BPF_F_ALLOW_MULTI`, or neither). */
export type CgroupAttachMode = 'exclusive' | 'override' | 'multi';

const modeFlags: Readonly<Record<CgroupAttachMode, number>> = {
  exclusive: 0,
  override: AttachFlags.AllowOverride,
  multi: AttachFlags.AllowMulti,
};

/** Options of `attachCgroupLegacy`. */
export interface CgroupLegacyOptions {
  /** The hook (default: the attach type the program was loaded with). */
  readonly attachType?: AttachTypeLike;
  /**
   * `'exclusive'` (default: the only program, none below), `'override'` (a descendant cgroup's
   * program replaces this one) or `'multi'` (every program of the hierarchy runs).
   */
  readonly mode?: CgroupAttachMode;
  /** In `'multi'` mode: replace this attached program atomically (`BPF_F_REPLACE`). */
  readonly replace?: ProgramLike;
}

/** A program attached to a cgroup with `BPF_PROG_ATTACH`; `detach()` (or `using`) removes it. */
export interface CgroupAttachment extends Attachment {
  readonly attachType: number;
  /** Detaches the program (`BPF_PROG_DETACH`); detaching twice is a no-op. */
  detach(): void;
}

function withCgroup<T>(cgroup: string | number, use: (fd: number) => T): T {
  const { fd, own } = openCgroupTarget(cgroup);
  try {
    return use(fd);
  } finally {
    if (own) closeSync(fd);
  }
}

function hookOf(program: TypedProgram, attachType: AttachTypeLike | undefined, what: string): number {
  const type = attachType !== undefined ? resolveAttachType(attachType) : program.attachType;
  if (type === undefined)
    throw new InvalidArgumentError(`${what} needs an attachType when the program was loaded without one`);
  return type;
}

/**
 * Attaches a cgroup program to a cgroup (path or fd) with `BPF_PROG_ATTACH`, in `mode`. The
 * cgroup holds the program until `detach()`. Prefer `attachCgroup` (a link) unless you need
 * `override` mode or interplay with tools that attach this way.
 */
export function attachCgroupLegacy(
  program: TypedProgram,
  cgroup: string | number,
  options: CgroupLegacyOptions = {},
): CgroupAttachment {
  const attachType = hookOf(program, options.attachType, 'attachCgroupLegacy');
  const mode = options.mode ?? 'exclusive';
  if (!Object.hasOwn(modeFlags, mode))
    throw new InvalidArgumentError(`mode must be 'exclusive', 'override' or 'multi', got '${String(mode)}'`);
  if (options.replace !== undefined && mode !== 'multi')
    throw new InvalidArgumentError(
      "replace needs mode 'multi' (the kernel replaces only among several programs)",
    );
  const progFd = program.fd;
  const what = `attaching to cgroup ${String(cgroup)} at ${attachTypeName(attachType)} (${mode})`;
  withCgroup(cgroup, (fd) => {
    const attr = new AttrBuffer(ProgAttachAttr)
      .u32('targetFd', fd)
      .u32('attachBpfFd', progFd)
      .u32('attachType', attachType)
      .u32('attachFlags', modeFlags[mode] | (options.replace ? AttachFlags.Replace : 0));
    if (options.replace) attr.u32('replaceBpfFd', options.replace.fd);
    try {
      sys.bpf(Cmd.ProgAttach, attr.bytes, attr.pointers);
    } catch (error) {
      throw translateSysError(error, what);
    }
  });
  return detachOnce({ attachType }, () =>
    withCgroup(cgroup, (fd) => {
      const attr = new AttrBuffer(ProgAttachAttr)
        .u32('targetFd', fd)
        .u32('attachBpfFd', progFd)
        .u32('attachType', attachType);
      try {
        sys.bpf(Cmd.ProgDetach, attr.bytes, attr.pointers);
      } catch (error) {
        throw translateSysError(
          error,
          `detaching from cgroup ${String(cgroup)} at ${attachTypeName(attachType)}`,
        );
      }
    }),
  );
}

/** What `queryCgroup` finds at one hook of a cgroup. */
export interface CgroupQuery {
  /** The mode programs were attached in (`AttachFlags` of BPF_PROG_ATTACH; 0 for links only). */
  readonly attachFlags: number;
  /** Ids of the programs that run there, in order. */
  readonly programIds: readonly number[];
  /**
   * Ids of the links among them, in program order (empty with `effective`: links of ancestor
   * cgroups are not looked for).
   */
  readonly linkIds: readonly number[];
  /** Changes with every attach and detach at this hook (Linux 6.6+; 0n before). */
  readonly revision: bigint;
}

/** Most programs one query reads back (the kernel caps a hook at 64 anyway). */
const MAX_PROGRAMS = 64;

/**
 * The programs attached to a cgroup (path or fd) at `attachType` (`BPF_PROG_QUERY`); with
 * `effective`, the ones that run for it, inherited ones included.
 */
export function queryCgroup(
  cgroup: string | number,
  attachType: AttachTypeLike,
  options: { readonly effective?: boolean } = {},
): CgroupQuery {
  const type = resolveAttachType(attachType);
  return withCgroup(cgroup, (fd) => {
    const progIds = new Uint32Array(MAX_PROGRAMS);
    const attr = new AttrBuffer(QueryAttr)
      .u32('targetFd', fd)
      .u32('attachType', type)
      .u32('queryFlags', options.effective ? QueryFlags.QueryEffective : 0)
      .pointer('progIds', progIds)
      .u32('progCnt', MAX_PROGRAMS);
    try {
      sys.bpf(Cmd.ProgQuery, attr.bytes, attr.pointers);
    } catch (error) {
      throw translateSysError(error, `querying cgroup ${String(cgroup)} at ${attachTypeName(type)}`);
    }
    const programIds = [...progIds.subarray(0, attr.getU32('progCnt'))];
    return {
      attachFlags: attr.getU32('attachFlags'),
      programIds,
      linkIds: options.effective ? [] : linksAt(fd, type, programIds),
      revision: attr.getU64('revision'),
    };
  });
}

/**
 * The ids of the links attaching `programIds` to the cgroup `fd` at `attachType`. The kernel
 * fills `link_ids` for tcx and netkit only, so they are found among the system's links: a
 * cgroup's id is its directory's inode number, and a program is attached at most once per hook.
 */
function linksAt(fd: number, attachType: number, programIds: readonly number[]): number[] {
  const cgroupId = fstatSync(fd, { bigint: true }).ino;
  const name = attachTypeName(attachType);
  const byProgram = new Map<number, number>();
  for (const link of Link.list())
    if (link.type === LinkType.Cgroup && link.cgroupId === cgroupId && link.attachType === name)
      byProgram.set(link.progId, link.id);
  return programIds.flatMap((id) => byProgram.get(id) ?? []);
}
