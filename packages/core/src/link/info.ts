import { cNameOf, LinkCreateFlags, LinkType, PerfEventType } from '@ebpf/uapi';
import type { RawInfo } from '../object-info.ts';
import { linkInfo, readObjectInfo } from '../object-info.ts';
import { attachTypeName } from '../program/types.ts';

/**
 * What the kernel reports about a link (`bpf_link_info`), with the part particular to its type
 * decoded: only the fields that type has are set.
 */
export interface LinkDescription {
  /** Link type (`LinkType`). */
  readonly type: number;
  /** Link type name (`'xdp'`, `'raw_tracepoint'`...). */
  readonly typeName: string;
  /** Kernel-wide id. */
  readonly id: number;
  /** Id of the attached program. */
  readonly progId: number;
  /** What the link is attached to, in words (`'ifindex 1'`, `'tracepoint sys_enter_getpid'`). */
  readonly target: string;
  /** Interface index, for XDP, tcx and netkit links. */
  readonly ifindex?: number;
  /**
   * Attach type name of cgroup, netns, tracing, tcx, netkit and sockmap links
   * (`'cgroup_inet_ingress'`, `'flow_dissector'`).
   */
  readonly attachType?: string;
  /**
   * The tracepoint of a raw_tracepoint link (`'sched_switch'`), or of a perf_event link on a
   * tracepoint (`'sys_enter_openat'`).
   */
  readonly tracepoint?: string;
  /** What a perf_event link is attached to: `'tracepoint'`, `'uprobe'`, `'uretprobe'`, `'kprobe'`, `'event'`... */
  readonly perfEvent?: string;
  /** The binary of a uprobe or uprobe_multi link. */
  readonly path?: string;
  /** The file offset of a uprobe perf_event link in `path`. */
  readonly offset?: number;
  /** The kernel function of a kprobe perf_event link. */
  readonly function?: string;
  /** The `bpf_get_attach_cookie()` value of a single-target link that takes one. */
  readonly cookie?: bigint;
  /** The cgroup id of a cgroup link (or of a cgroup iterator). */
  readonly cgroupId?: bigint;
  /** The network namespace inode of a netns link. */
  readonly netnsIno?: number;
  /** Iterator target of an iter link (`'task'`, `'bpf_map_elem'`). */
  readonly iterTarget?: string;
  /** The map of a struct_ops, sockmap or map-element iterator link. */
  readonly mapId?: number;
  /** The process of a task iterator or a uprobe_multi link. */
  readonly pid?: number;
  /** The BTF object (0: vmlinux) and type id a tracing link attaches to. */
  readonly targetObjId?: number;
  readonly targetBtfId?: number;
  /** Where a netfilter link hooks. */
  readonly netfilter?: {
    readonly pf: number;
    readonly hooknum: number;
    readonly priority: number;
    readonly flags: number;
  };
  /** A perf event link on a plain event: its `perf_event_attr` type and config. */
  readonly eventType?: number;
  readonly config?: bigint;
  /** kprobe_multi and uprobe_multi links: return probes? */
  readonly returnProbe?: boolean;
  /** kprobe_multi: the probed addresses; uprobe_multi: the file offsets. */
  readonly addresses?: readonly bigint[];
  readonly offsets?: readonly bigint[];
  /** Cookies of each target of a multi link, in order. */
  readonly cookies?: readonly bigint[];
  /** Probe hits a kprobe link missed. */
  readonly missed?: bigint;
  /** Every field the kernel returned, type-specific ones included (union members overlap). */
  readonly raw: RawInfo;
}

/** The hook-specific part of a description. */
type Details = Omit<LinkDescription, 'type' | 'typeName' | 'id' | 'progId' | 'raw'>;

/** A link type's name, from `LinkType` (`BPF_LINK_TYPE_XDP` is `'xdp'`). */
export function linkTypeName(type: number): string {
  const cName = cNameOf(LinkType as never, type as never) as string | undefined;
  return cName?.startsWith('BPF_LINK_TYPE_')
    ? cName.slice('BPF_LINK_TYPE_'.length).toLowerCase()
    : `link type ${type}`;
}

/** Reads and decodes the info of link `fd`. */
export function describeLink(fd: number): LinkDescription {
  const info = linkInfo(fd);
  return Object.freeze({
    type: info.type,
    typeName: linkTypeName(info.type),
    id: info.id,
    progId: info.progId,
    ...detailsOf(fd, info.type, info.raw),
    raw: info.raw,
  });
}

/** Longest name read back (tracepoint, path, function); the kernel NUL-terminates it. */
const NAME_MAX = 4096;

const decoder = new TextDecoder();

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

/** Reads a name the kernel copies into a buffer the info call passes (`field` and its length). */
function readName(fd: number, field: string, lengthField: string): string {
  const name = new Uint8Array(NAME_MAX);
  readObjectInfo(fd, 'link', { [field]: name, [lengthField]: NAME_MAX });
  return cString(name);
}

const num = (v: unknown): number => Number(v ?? 0);
const big = (v: unknown): bigint => BigInt((v as number | bigint | undefined) ?? 0);

function u64s(bytes: Uint8Array): bigint[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 8 }, (_, k) => view.getBigUint64(k * 8, true));
}

function detailsOf(fd: number, type: number, raw: RawInfo): Details {
  switch (type) {
    case LinkType.RawTracepoint: {
      const tracepoint = readName(fd, 'rawTracepointTpName', 'rawTracepointTpNameLen');
      return { target: `raw tracepoint ${tracepoint}`, tracepoint, cookie: big(raw.rawTracepointCookie) };
    }
    case LinkType.Tracing: {
      const targetObjId = num(raw.tracingTargetObjId);
      const targetBtfId = num(raw.tracingTargetBtfId);
      const attachType = attachTypeName(num(raw.tracingAttachType));
      return {
        target: `${attachType} btf ${targetObjId}:${targetBtfId}`,
        attachType,
        targetObjId,
        targetBtfId,
        cookie: big(raw.tracingCookie),
      };
    }
    case LinkType.Cgroup: {
      const cgroupId = big(raw.cgroupCgroupId);
      const attachType = attachTypeName(num(raw.cgroupAttachType));
      return { target: `cgroup ${cgroupId} ${attachType}`, cgroupId, attachType };
    }
    case LinkType.Iter:
      return iterDetails(fd, raw);
    case LinkType.Netns: {
      const netnsIno = num(raw.netnsNetnsIno);
      const attachType = attachTypeName(num(raw.netnsAttachType));
      return { target: `netns ${netnsIno} ${attachType}`, netnsIno, attachType };
    }
    case LinkType.Xdp:
      return { target: `ifindex ${num(raw.xdpIfindex)}`, ifindex: num(raw.xdpIfindex) };
    case LinkType.StructOps:
      return { target: `struct_ops map ${num(raw.structOpsMapId)}`, mapId: num(raw.structOpsMapId) };
    case LinkType.Netfilter: {
      const netfilter = {
        pf: num(raw.netfilterPf),
        hooknum: num(raw.netfilterHooknum),
        priority: num(raw.netfilterPriority),
        flags: num(raw.netfilterFlags),
      };
      return {
        target: `netfilter pf ${netfilter.pf} hook ${netfilter.hooknum} priority ${netfilter.priority}`,
        netfilter,
      };
    }
    case LinkType.KprobeMulti:
      return kprobeMultiDetails(fd, raw);
    case LinkType.UprobeMulti:
      return uprobeMultiDetails(fd, raw);
    case LinkType.PerfEvent:
      return perfEventDetails(fd, num(raw.perfEventType), raw);
    case LinkType.Tcx:
    case LinkType.Netkit: {
      const tcx = type === LinkType.Tcx;
      const ifindex = num(tcx ? raw.tcxIfindex : raw.netkitIfindex);
      const attachType = attachTypeName(num(tcx ? raw.tcxAttachType : raw.netkitAttachType));
      return { target: `ifindex ${ifindex} ${attachType}`, ifindex, attachType };
    }
    case LinkType.Sockmap: {
      const mapId = num(raw.sockmapMapId);
      const attachType = attachTypeName(num(raw.sockmapAttachType));
      return { target: `map ${mapId} ${attachType}`, mapId, attachType };
    }
    default:
      return { target: linkTypeName(type) };
  }
}

/** Iterator targets whose link carries a map (`bpf_iter_link_info.map`). */
const mapIterators = new Set(['bpf_map_elem', 'bpf_sk_storage_map', 'sockmap']);

function iterDetails(fd: number, raw: RawInfo): Details {
  const iterTarget = readName(fd, 'iterTargetName', 'iterTargetNameLen');
  const base = { target: `iter ${iterTarget}`, iterTarget };
  if (mapIterators.has(iterTarget)) {
    const mapId = num(raw.iterMapMapId);
    return { ...base, target: `iter ${iterTarget} map ${mapId}`, mapId };
  }
  if (iterTarget === 'cgroup') return { ...base, cgroupId: big(raw.iterCgroupCgroupId) };
  if (iterTarget === 'task' || iterTarget === 'task_file' || iterTarget === 'task_vma') {
    const pid = num(raw.iterTaskPid) || num(raw.iterTaskTid);
    return pid ? { ...base, target: `iter ${iterTarget} pid ${pid}`, pid } : base;
  }
  return base;
}

function kprobeMultiDetails(fd: number, raw: RawInfo): Details {
  const count = num(raw.kprobeMultiCount);
  const addresses = new Uint8Array(count * 8);
  const cookies = new Uint8Array(count * 8);
  readObjectInfo(fd, 'link', {
    kprobeMultiAddrs: addresses,
    kprobeMultiCookies: cookies,
    kprobeMultiCount: count,
  });
  return {
    target: `${count} kernel functions`,
    returnProbe: (num(raw.kprobeMultiFlags) & LinkCreateFlags.KprobeMultiReturn) !== 0,
    addresses: u64s(addresses),
    cookies: u64s(cookies),
    missed: big(raw.kprobeMultiMissed),
  };
}

function uprobeMultiDetails(fd: number, raw: RawInfo): Details {
  const count = num(raw.uprobeMultiCount);
  const path = new Uint8Array(NAME_MAX);
  const offsets = new Uint8Array(count * 8);
  const cookies = new Uint8Array(count * 8);
  readObjectInfo(fd, 'link', {
    uprobeMultiPath: path,
    uprobeMultiPathSize: NAME_MAX,
    uprobeMultiOffsets: offsets,
    uprobeMultiCookies: cookies,
    uprobeMultiCount: count,
  });
  const pid = num(raw.uprobeMultiPid);
  const file = cString(path);
  return {
    target: `${count} offsets in ${file}${pid ? ` pid ${pid}` : ''}`,
    path: file,
    offsets: u64s(offsets),
    cookies: u64s(cookies),
    returnProbe: (num(raw.uprobeMultiFlags) & LinkCreateFlags.UprobeMultiReturn) !== 0,
    ...(pid ? { pid } : {}),
  };
}

/** A perf_event link's event (`bpf_link_info.perf_event`, chosen by its `type`). */
function perfEventDetails(fd: number, type: number, raw: RawInfo): Details {
  const c = cNameOf(PerfEventType as never, type as never) as string | undefined;
  const perfEvent = c?.startsWith('BPF_PERF_EVENT_')
    ? c.slice('BPF_PERF_EVENT_'.length).toLowerCase()
    : `unknown(${type})`;
  switch (type) {
    case PerfEventType.Tracepoint: {
      const tracepoint = readName(fd, 'perfEventTracepointTpName', 'perfEventTracepointNameLen');
      return {
        target: `tracepoint ${tracepoint}`,
        perfEvent,
        tracepoint,
        cookie: big(raw.perfEventTracepointCookie),
      };
    }
    case PerfEventType.Uprobe:
    case PerfEventType.Uretprobe: {
      const path = readName(fd, 'perfEventUprobeFileName', 'perfEventUprobeNameLen');
      const offset = num(raw.perfEventUprobeOffset);
      return {
        target: `${perfEvent} ${path}+0x${offset.toString(16)}`,
        perfEvent,
        path,
        offset,
        cookie: big(raw.perfEventUprobeCookie),
      };
    }
    case PerfEventType.Kprobe:
    case PerfEventType.Kretprobe: {
      const fn = readName(fd, 'perfEventKprobeFuncName', 'perfEventKprobeNameLen');
      return {
        target: `${perfEvent} ${fn}`,
        perfEvent,
        function: fn,
        cookie: big(raw.perfEventKprobeCookie),
        missed: big(raw.perfEventKprobeMissed),
      };
    }
    case PerfEventType.Event: {
      const eventType = num(raw.perfEventEventType);
      const config = big(raw.perfEventEventConfig);
      return {
        target: `perf event type ${eventType} config ${config}`,
        perfEvent,
        eventType,
        config,
        cookie: big(raw.perfEventEventCookie),
      };
    }
    default:
      return { target: perfEvent, perfEvent };
  }
}
