import * as sys from '@ebpf/sys';
import { AttachFlags, AttrBuffer, Cmd, LinkCreateAttr, LinkDetachAttr, LinkUpdateAttr } from '@ebpf/uapi';
import { InvalidArgumentError, KernelRejectedError, translateSysError } from '../errors.ts';
import { fdFromId, linkInfo, objectIds, progInfo } from '../object-info.ts';
import { getPinned, kindOfFd, PinnableObject } from '../pin.ts';
import { programTypeName } from '../program/types.ts';
import { listObjects } from '../system.ts';
import { describeLink, type LinkDescription, linkTypeName } from './info.ts';

export { type LinkDescription, linkTypeName } from './info.ts';

/** Anything that owns a program fd (a `BpfProgram`). */
export interface ProgramLike {
  readonly fd: number;
}

/** A program whose type (`ProgType`) the attach functions check, and its expected attach type. */
export interface TypedProgram extends ProgramLike {
  readonly type: number;
  readonly attachType?: number | undefined;
}

/** Throws an `InvalidArgumentError` unless `program` has one of `types` (`ProgType` values). */
export function requireProgramType(program: TypedProgram, attach: string, ...types: number[]): void {
  if (types.includes(program.type)) return;
  const names = types.map(programTypeName).join(' or ');
  throw new InvalidArgumentError(
    `${attach} needs a ${names} program, got a ${programTypeName(program.type)} program (type ${program.type})`,
  );
}

/** A cookie for `bpf_get_attach_cookie()`: a bigint or a non-negative safe integer. */
export function checkCookie(cookie: unknown, what = 'cookie'): bigint {
  if (typeof cookie === 'bigint' && cookie >= 0n && cookie < 1n << 64n) return cookie;
  if (typeof cookie === 'number' && Number.isSafeInteger(cookie) && cookie >= 0) return BigInt(cookie);
  throw new InvalidArgumentError(
    `${what} must be a 64-bit unsigned integer (number or bigint), got ${String(cookie)}`,
  );
}

/**
 * Wraps a link fd in the class of its type: the closed switch of `open.ts`, which imports every
 * hook's link class. Those classes extend `Link`, so this module cannot import them back (the
 * cycle would evaluate a subclass before its base): `open.ts` hands its switch over here.
 */
let wrap: ((fd: number, info: LinkDescription) => Link) | undefined;

/** @internal Called once by `open.ts`. */
export function setLinkWrapper(wrapper: (fd: number, info: LinkDescription) => Link): void {
  wrap = wrapper;
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

  /** Wraps an fd the caller hands over (attach functions and the link switch use this). */
  constructor(fd: number, type: number) {
    super(fd, 'link');
    this.type = type;
  }

  /** Link type name (`'xdp'`). */
  get typeName(): string {
    return linkTypeName(this.type);
  }

  /** Wraps a link fd the caller hands over, in the class of its type (`XdpLink`, `IterLink`...). */
  static adopt(fd: number): Link {
    if (wrap === undefined) throw new Error('internal: link/open.ts is not loaded (import @ebpf/core)');
    let info: LinkDescription;
    try {
      info = describeLink(fd);
    } catch (error) {
      sys.close(fd);
      throw error;
    }
    return wrap(fd, info);
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

  /**
   * The info of every link on the system, each with its `target` in words (links that go away
   * while listing are skipped).
   */
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
      attr.u32('flags', AttachFlags.Replace);
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
