// open.ts first: it hands the link switch to Link before anything can open a link by id.
import './open.ts';

export type { Attachment } from './attachment.ts';
export {
  type AttachableSpec,
  type AttachPlan,
  type AutoAttachOptions,
  attachesFromSection,
  attachPlanned,
  planAttach,
  type UsdtProbe,
} from './auto-attach.ts';
export { symbolOffset } from './binary.ts';
export { attachCgroup, CgroupLink, cgroup2Mount } from './cgroup.ts';
export {
  attachCgroupLegacy,
  type CgroupAttachMode,
  type CgroupAttachment,
  type CgroupLegacyOptions,
  type CgroupQuery,
  queryCgroup,
} from './cgroup-legacy.ts';
export { attachIter, type CgroupIterOrderName, IterLink, type IterOptions } from './iter.ts';
export { attachKprobe, KprobeLink, type KprobeOptions } from './kprobe.ts';
export {
  attachKprobeMulti,
  KprobeMultiLink,
  type KprobeMultiOptions,
  kprobeMultiUnsupported,
} from './kprobe-multi.ts';
export { Link, type LinkDescription, linkTypeName, type ProgramLike } from './link.ts';
export { attachNetfilter, NetfilterLink, type NetfilterOptions } from './netfilter.ts';
export { attachNetns, NetnsLink } from './netns.ts';
export {
  attachPerfEvent,
  PerfEventLink,
  type PerfEventOptions,
} from './perf-event.ts';
export { attachRawTracepoint, RawTracepointLink, type RawTracepointOptions } from './raw-tracepoint.ts';
export { attachReuseport, type ReuseportAttachment } from './reuseport.ts';
export { attachSocket, detachSocket, type SocketAttachment, type SocketLike, socketFd } from './socket.ts';
export { attachSockmap, SockmapLink } from './sockmap.ts';
export { attachTcx, type TcxAttachOptions, type TcxDirection, TcxLink } from './tcx.ts';
export { attachTracepoint, TracepointLink, type TracepointOptions, tracepointId } from './tracepoint.ts';
export { attachTracing, TracingLink, type TracingOptions, trampolinesRefused } from './tracing.ts';
export { attachUprobe, UprobeLink, type UprobeOptions } from './uprobe.ts';
export { attachUprobeMulti, UprobeMultiLink, type UprobeMultiOptions } from './uprobe-multi.ts';
export { attachUsdt, UsdtLink, type UsdtMaps, type UsdtOptions, type UsdtSite } from './usdt.ts';
export { parseUsdtArgs, type UsdtArg } from './usdt-spec.ts';
export { attachXdp, interfaceIndex, type XdpAttachOptions, XdpLink, type XdpMode } from './xdp.ts';
