import * as sys from '@ebpf/sys';
import {
  AttrBuffer,
  Cmd,
  cNameOf,
  LinkCreateAttr,
  LinkDetachAttr,
  LinkType,
  LinkUpdateAttr,
  PerfEventType,
} from '@ebpf/uapi';
import { InvalidArgumentError, KernelRejectedError, translateSysError } from '../errors.ts';
import type { RawInfo } from '../object-info.ts';
import { fdFromId, linkInfo, objectIds, progInfo, readObjectInfo } from '../object-info.ts';
import { getPinned, kindOfFd, PinnableObject } from '../pin.ts';
import { attachTypeName, programTypeName } from '../program/types.ts';
import { listObjects } from '../system.ts';

/** Anything that owns a program fd (a `BpfProgram`). */
export interface ProgramLike {
  readonly fd: number;
}

/** What the kernel reports about a link (`bpf_link_info`), with the type-specific part decoded. */
export interface LinkDescription {
  /** Link type (`LinkType`). */
  readonly type: number;
  /** Link type name (`'xdp'`, `'raw_tracepoint'`...). */
  readonly typeName: string;
  /** Kernel-wide id. */
  readonly id: number;
  /** Id of the attached program. */
  readonly progId: number;
  /** Interface index, for XDP and tcx/netkit links. */
  readonly ifindex?: number;
  /**
   * The tracepoint of a raw_tracepoint link (`'sched_switch'`), or of a perf_event link on a
   * tracepoint (`'sys_enter_openat'`).
   */
  readonly tracepoint?: string;
  /** What a perf_event link is attached to: `'tracepoint'`, `'uprobe'`, `'uretprobe'`, `'kprobe'`, ... */
  readonly perfEvent?: string;
  /** The binary of a uprobe perf_event link. */
  readonly path?: string;
  /** The file offset of a uprobe perf_event link in `path`. */
  readonly offset?: number;
  /** The kernel function of a kprobe perf_event link. */
  readonly function?: string;
  /** The cgroup id of a cgroup link. */
  readonly cgroupId?: bigint;
  /** The network namespace inode of a netns link. */
  readonly netnsIno?: number;
  /** Attach type name of cgroup and netns links (`'cgroup_inet_ingress'`, `'flow_dissector'`). */
  readonly attachType?: string;
  /** Every field the kernel returned, type-specific ones included (union members overlap). */
  readonly raw: RawInfo;
}

/** A link type's name, from `LinkType` (`BPF_LINK_TYPE_XDP` is `'xdp'`). */
export function linkTypeName(type: number): string {
  const cName = cNameOf(LinkType as never, type as never) as string | undefined;
  return cName?.startsWith('BPF_LINK_TYPE_')
    ? cName.slice('BPF_LINK_TYPE_'.length).toLowerCase()
    : `link type ${type}`;
}

/**
 * Subclasses links of a given type are wrapped in when opened by pin, id or fd (registered by the
 * attach functions' modules). Several may share a type (perf event links: tracepoints, uprobes):
 * the first that returns a link wins.
 */
const linkClasses = new Map<number, Array<(fd: number, info: LinkDescription) => Link | undefined>>();

/**
 * Registers a maker for links of `type`, called with the fd and the link's info; it returns the
 * wrapped link, or undefined to leave the link to the next maker (or the plain `Link`).
 */
export function registerLinkClass(
  type: number,
  make: (fd: number, info: LinkDescription) => Link | undefined,
): void {
  const makers = linkClasses.get(type);
  if (makers === undefined) linkClasses.set(type, [make]);
  else makers.push(make);
}

/**
 * A BPF link: the kernel object that keeps a program attached to a hook (an interface, a
 * tracepoint, a cgroup...). The program stays attached while the link is open or pinned; closing
 * the last fd of an unpinned link detaches it. Attach functions (`attachXdp`, ...) return links;
 * subclasses add what is particular to their hook (`XdpLink.ifindex`).
 */
export class Link extends PinnableObject {
  /** Link type (`LinkType`). */
  readonly type: number;

  /** Wraps an fd the caller hands over (attach functions use this). */
  protected constructor(fd: number, type: number) {
    super(fd, 'link');
    this.type = type;
  }

  /** Link type name (`'xdp'`). */
  get typeName(): string {
    return linkTypeName(this.type);
  }

  /** Wraps a link fd the caller hands over, in the subclass registered for its type. */
  static adopt(fd: number): Link {
    let info: LinkDescription;
    try {
      info = describeLink(fd);
    } catch (error) {
      sys.close(fd);
      throw error;
    }
    for (const make of linkClasses.get(info.type) ?? []) {
      const link = make(fd, info);
      if (link !== undefined) return link;
    }
    return new Link(fd, info.type);
  }

  /** Wraps an existing link fd; the link gets its own duplicate, the caller keeps `fd`. */
  static fromFd(fd: number): Link {
    if (!Number.isInteger(fd) || fd < 0)
      throw new InvalidArgumentError(`fd must be a non-negative integer, got ${fd}`);
    const kind = kindOfFd(fd);
    if (kind !== 'link') {
      throw new InvalidArgumentError(
        `fd ${fd} is ${kind ? `a BPF ${kind}` : 'not a BPF object'}, not a link`,
      );
    }
    let owned: number;
    try {
      owned = sys.dup(fd);
    } catch (error) {
      throw translateSysError(error, `duplicating link fd ${fd}`);
    }
    return Link.adopt(owned);
  }

  /** Opens the link pinned at `path`. */
  static fromPin(path: string): Link {
    return Link.adopt(getPinned(path, 'link')).openedFrom(path);
  }

  /** Opens the link with kernel-wide id `id`. */
  static fromId(id: number): Link {
    return Link.adopt(fdFromId('link', id));
  }

  /** The ids of every link on the system. */
  static ids(): number[] {
    return [...objectIds('link')];
  }

  /** The info of every link on the system (links that go away while listing are skipped). */
  static list(): LinkDescription[] {
    return listObjects('link', describeLink);
  }

  /** What the kernel reports about this link. */
  info(): LinkDescription {
    return describeLink(this.fd);
  }

  /** The kernel-wide id. */
  get id(): number {
    return linkInfo(this.fd).id;
  }

  /**
   * Atomically replaces the attached program (`BPF_LINK_UPDATE`). The new program must have the
   * attached one's type (`InvalidArgumentError` otherwise). With `expected`, the update only
   * happens if that program is the one attached now (else a `BpfError` with code 'EPERM').
   */
  update(program: ProgramLike, expected?: ProgramLike): void {
    const what = `updating the program of ${this.typeName} link`;
    const attached = attachedProgramType(this.fd);
    const offered = progInfo(program.fd).type;
    if (attached !== undefined && attached !== offered) {
      throw new InvalidArgumentError(
        `${what}: the link runs a ${programTypeName(attached)} program; a ${programTypeName(offered)} program cannot replace it`,
      );
    }
    const attr = new AttrBuffer(LinkUpdateAttr);
    attr.u32('linkFd', this.fd);
    attr.u32('newProgFd', program.fd);
    if (expected !== undefined) {
      attr.u32('oldProgFd', expected.fd);
      attr.u32('flags', 4 /* BPF_F_REPLACE */);
    }
    try {
      sys.bpf(Cmd.LinkUpdate, attr.bytes, attr.pointers);
    } catch (error) {
      if ((error as { code?: string }).code === 'EINVAL') {
        throw new KernelRejectedError(
          `${what}: the kernel refused the new program (EINVAL): it must match the attached program's type and expected attach type, and this link type must allow updates`,
          { cause: error },
        );
      }
      throw translateSysError(error, what);
    }
  }

  /**
   * Detaches the program while keeping this object open (`BPF_LINK_DETACH`): the link goes
   * defunct, pins included. Closing the last fd of an unpinned link detaches too.
   */
  detach(): void {
    const attr = new AttrBuffer(LinkDetachAttr);
    attr.u32('linkFd', this.fd);
    try {
      sys.bpf(Cmd.LinkDetach, attr.bytes, attr.pointers);
    } catch (error) {
      throw translateSysError(error, `detaching ${this.typeName} link`);
    }
  }
}

/** The type of the program a link runs, undefined when it cannot be read (defunct link, no privilege). */
function attachedProgramType(linkFd: number): number | undefined {
  const { progId } = linkInfo(linkFd);
  if (progId === 0) return undefined;
  let fd: number;
  try {
    fd = fdFromId('prog', progId);
  } catch {
    return undefined;
  }
  try {
    return progInfo(fd).type;
  } finally {
    sys.close(fd);
  }
}

function describeLink(fd: number): LinkDescription {
  const info = linkInfo(fd);
  const base = {
    type: info.type,
    typeName: linkTypeName(info.type),
    id: info.id,
    progId: info.progId,
    raw: info.raw,
  };
  const ifindex = ifindexOf(info.type, info.raw);
  return Object.freeze({ ...base, ...(ifindex === undefined ? {} : { ifindex }), ...hookOf(fd, info) });
}

/** Longest name read back (tracepoint, uprobe path, kprobe function); the kernel NUL-terminates it. */
const NAME_MAX = 4096;

/** Reads a name the kernel copies into a buffer the info call passes (`field` and its length). */
function readName(fd: number, field: string, lengthField: string): string {
  const name = new Uint8Array(NAME_MAX);
  readObjectInfo(fd, 'link', { [field]: name, [lengthField]: NAME_MAX });
  const end = name.indexOf(0);
  return new TextDecoder().decode(name.subarray(0, end < 0 ? NAME_MAX : end));
}

/** The hook-specific fields of a raw_tracepoint, perf_event, cgroup or netns link. */
function hookOf(fd: number, info: ReturnType<typeof linkInfo>): Partial<LinkDescription> {
  const raw = info.raw;
  switch (info.type) {
    case LinkType.RawTracepoint:
      return { tracepoint: readName(fd, 'rawTracepointTpName', 'rawTracepointTpNameLen') };
    case LinkType.PerfEvent:
      return perfEventHook(fd, Number(raw.perfEventType), raw);
    case LinkType.Cgroup:
      return {
        cgroupId: BigInt(raw.cgroupCgroupId as bigint),
        attachType: attachTypeName(Number(raw.cgroupAttachType)),
      };
    case LinkType.Netns:
      return { netnsIno: Number(raw.netnsNetnsIno), attachType: attachTypeName(Number(raw.netnsAttachType)) };
    default:
      return {};
  }
}

/** A perf_event link's event (`bpf_link_info.perf_event`, chosen by its `type`). */
function perfEventHook(fd: number, type: number, raw: RawInfo): Partial<LinkDescription> {
  const c = cNameOf(PerfEventType as never, type as never) as string | undefined;
  const perfEvent = c?.startsWith('BPF_PERF_EVENT_')
    ? c.slice('BPF_PERF_EVENT_'.length).toLowerCase()
    : `unknown(${type})`;
  switch (type) {
    case PerfEventType.Tracepoint:
      return {
        perfEvent,
        tracepoint: readName(fd, 'perfEventTracepointTpName', 'perfEventTracepointNameLen'),
      };
    case PerfEventType.Uprobe:
    case PerfEventType.Uretprobe:
      return {
        perfEvent,
        path: readName(fd, 'perfEventUprobeFileName', 'perfEventUprobeNameLen'),
        offset: Number(raw.perfEventUprobeOffset),
      };
    case PerfEventType.Kprobe:
    case PerfEventType.Kretprobe:
      return { perfEvent, function: readName(fd, 'perfEventKprobeFuncName', 'perfEventKprobeNameLen') };
    default:
      return { perfEvent };
  }
}

function ifindexOf(type: number, raw: RawInfo): number | undefined {
  if (type !== LinkType.Xdp && type !== LinkType.Tcx && type !== LinkType.Netkit) return undefined;
  for (const key of ['xdpIfindex', 'tcxIfindex', 'netkitIfindex', 'ifindex']) {
    const value = raw[key];
    if (typeof value === 'number') return value;
  }
  return undefined;
}

/** What `createLink` needs; `target` is an fd or an ifindex, depending on the attach type. */
export interface LinkCreateRequest {
  readonly program: ProgramLike;
  /** Target fd (cgroup, perf event...) or interface index (XDP, tcx). */
  readonly target: number;
  /** `AttachType` value. */
  readonly attachType: number;
  /** Attach-type-specific flags (XDP mode flags...). */
  readonly flags?: number;
  /** Sets type-specific fields of the attr (`LinkCreateAttr` names) before the call. */
  readonly extra?: (attr: AttrBuffer<typeof LinkCreateAttr>) => void;
  /** What is being attached, in words, for error messages. */
  readonly what: string;
}

/** Calls `BPF_LINK_CREATE` and returns the new link fd (the caller owns it). */
export function createLink(request: LinkCreateRequest): number {
  const attr = new AttrBuffer(LinkCreateAttr);
  attr.u32('progFd', request.program.fd);
  attr.u32('targetFd', request.target);
  attr.u32('attachType', request.attachType);
  attr.u32('flags', request.flags ?? 0);
  request.extra?.(attr);
  try {
    return sys.bpf(Cmd.LinkCreate, attr.bytes, attr.pointers);
  } catch (error) {
    throw translateSysError(error, request.what);
  }
}
