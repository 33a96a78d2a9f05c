import { LinkType, PerfEventType } from '@ebpf/uapi';
import { CgroupLink } from './cgroup.ts';
import type { LinkDescription } from './info.ts';
import { IterLink } from './iter.ts';
import { KprobeLink } from './kprobe.ts';
import { KprobeMultiLink } from './kprobe-multi.ts';
import { Link, setLinkWrapper } from './link.ts';
import { NetfilterLink } from './netfilter.ts';
import { NetnsLink } from './netns.ts';
import { PerfEventLink } from './perf-event.ts';
import { RawTracepointLink } from './raw-tracepoint.ts';
import { SockmapLink } from './sockmap.ts';
import { TcxLink, tcxDirection } from './tcx.ts';
import { TracepointLink } from './tracepoint.ts';
import { TracingLink } from './tracing.ts';
import { UprobeLink } from './uprobe.ts';
import { UprobeMultiLink } from './uprobe-multi.ts';
import { XdpLink } from './xdp.ts';

/**
 * The one place that knows which class each link type opens as (`Link.fromId`, `fromFd`,
 * `fromPin`): a closed switch over `LinkType`, with what the kernel reports filled in.
 */
export function wrapLink(fd: number, info: LinkDescription): Link {
  switch (info.type) {
    case LinkType.Xdp:
      return new XdpLink(fd, info.ifindex ?? 0, undefined);
    case LinkType.Tcx:
      return new TcxLink(fd, info.ifindex ?? 0, tcxDirection(Number(info.raw.tcxAttachType)));
    case LinkType.Cgroup:
      return new CgroupLink(fd, Number(info.raw.cgroupAttachType ?? 0));
    case LinkType.RawTracepoint:
      return new RawTracepointLink(fd, info.tracepoint);
    case LinkType.PerfEvent:
      return perfEventLink(fd, info);
    case LinkType.Iter:
      return new IterLink(fd);
    case LinkType.Tracing:
      return new TracingLink(fd, Number(info.raw.tracingAttachType));
    case LinkType.KprobeMulti:
      return new KprobeMultiLink(fd);
    case LinkType.UprobeMulti:
      return new UprobeMultiLink(fd);
    case LinkType.Sockmap:
      return new SockmapLink(fd, Number(info.raw.sockmapAttachType));
    case LinkType.Netns:
      return new NetnsLink(fd, Number(info.raw.netnsAttachType));
    case LinkType.Netfilter:
      return new NetfilterLink(
        fd,
        info.netfilter && { ...info.netfilter, defrag: (info.netfilter.flags & 1) !== 0 },
      );
    default:
      return new Link(fd, info.type);
  }
}

function perfEventLink(fd: number, info: LinkDescription): Link {
  switch (Number(info.raw.perfEventType)) {
    case PerfEventType.Tracepoint:
      return new TracepointLink(fd, undefined);
    case PerfEventType.Uprobe:
    case PerfEventType.Uretprobe:
      return new UprobeLink(fd, info.path === undefined ? undefined : `${info.path}+${info.offset ?? 0}`);
    case PerfEventType.Kprobe:
    case PerfEventType.Kretprobe:
      return new KprobeLink(fd, info.function);
    case PerfEventType.Event:
      return new PerfEventLink(fd, info.eventType, info.config);
    default:
      return new Link(fd, info.type);
  }
}

setLinkWrapper(wrapLink);
