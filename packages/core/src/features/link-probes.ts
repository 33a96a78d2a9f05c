/**
 * Link-type probes: load a tiny program of the right type, then ask BPF_LINK_CREATE to attach it
 * to a target that cannot exist. A kernel that knows the link type looks the target up and fails
 * (EBADF, ENOENT, ENODEV...); one that does not refuses the attach type itself (EINVAL, EOPNOTSUPP).
 */
import * as sys from '@ebpf/sys';
import { AttachType, AttrBuffer, Cmd, LinkCreateAttr, ProgType } from '@ebpf/uapi';
import { minimalProgram, probeLoad } from '../program/load.ts';
import { programTypeName } from '../program/types.ts';

/** How to probe one link type. */
interface LinkProbe {
  readonly progType: number;
  readonly attachType: number;
  /** The program's expected attach type, when the kernel checks it against `attachType`. */
  readonly expected?: number;
  /** Fills what the attach type needs so that only the missing target makes it fail. */
  readonly extra?: (attr: AttrBuffer<typeof LinkCreateAttr>) => void;
  /** The target: an fd or ifindex that does not exist, unless the probe needs a real one. */
  readonly target?: number;
  /** Errors only a kernel that knows the link type gives here, besides failed target lookups. */
  readonly knownBy?: readonly string[];
}

/** An fd number no process has open: fd lookups fail with EBADF. */
const noFd = 0x7fff_ffff;
/** An interface index no machine has: device lookups fail with ENODEV. */
const noIfindex = 0x7fff_ffff;
const loopback = 1;
/** `XDP_FLAGS_HW_MODE` */
const xdpHardwareMode = 1 << 3;
const noSuchPath = new TextEncoder().encode('/nonexistent/ebpf-ts-probe\0');
const oneOffset = new BigUint64Array(1);

const nullName = new BigUint64Array(1);

/** Kprobe programs loaded for, and linked with, a multi-probe attach type. */
function multiProbe(attachType: number, extra: NonNullable<LinkProbe['extra']>): LinkProbe {
  return { progType: ProgType.Kprobe, attachType, expected: attachType, extra };
}

const probes: Record<string, LinkProbe> = {
  tracing: {
    progType: ProgType.Tracing,
    attachType: AttachType.TraceFentry,
    expected: AttachType.TraceFentry,
  },
  iter: { progType: ProgType.Tracing, attachType: AttachType.TraceIter, expected: AttachType.TraceIter },
  cgroup: { progType: ProgType.CgroupSkb, attachType: AttachType.CgroupInetIngress },
  netns: { progType: ProgType.SkLookup, attachType: AttachType.SkLookup, expected: AttachType.SkLookup },
  // A missing device gives EINVAL, as an unknown attach type does: ask for hardware offload on
  // the loopback device instead, which a kernel with XDP links refuses as EOPNOTSUPP.
  xdp: {
    progType: ProgType.Xdp,
    attachType: AttachType.Xdp,
    target: loopback,
    extra: (a) => a.u32('flags', xdpHardwareMode),
    knownBy: ['EOPNOTSUPP'],
  },
  perf_event: { progType: ProgType.PerfEvent, attachType: AttachType.PerfEvent },
  // One symbol whose name is at address 0: a kernel with these links faults reading it (EFAULT).
  kprobe_multi: {
    ...multiProbe(AttachType.TraceKprobeMulti, (a) => {
      a.u32('kprobeMultiCnt', 1);
      a.pointer('kprobeMultiSyms', nullName);
    }),
    knownBy: ['EFAULT'],
  },
  netfilter: {
    progType: ProgType.Netfilter,
    attachType: AttachType.Netfilter,
    expected: AttachType.Netfilter,
    // Protocol family 0 is no netfilter family.
    knownBy: ['EAFNOSUPPORT'],
  },
  tcx: { progType: ProgType.SchedCls, attachType: AttachType.TcxIngress },
  uprobe_multi: multiProbe(AttachType.TraceUprobeMulti, (a) => {
    a.u32('uprobeMultiCnt', 1);
    a.pointer('uprobeMultiPath', noSuchPath);
    a.pointer('uprobeMultiOffsets', oneOffset);
  }),
  netkit: { progType: ProgType.SchedCls, attachType: AttachType.NetkitPrimary },
  sockmap: { progType: ProgType.SkSkb, attachType: AttachType.SkSkbVerdict },
};

/** The link types there is a probe for. */
export const probedLinkTypes: ReadonlySet<string> = new Set(Object.keys(probes));

/** What a link probe found: the errno of the program load or of the link creation. */
export type LinkProbeOutcome =
  | { readonly step: 'load'; readonly code: string | undefined; readonly what: string }
  | { readonly step: 'link'; readonly code: string | undefined; readonly known: boolean };

/** Failed target lookups: the kernel got past the attach type, so it knows the link type. */
const lookupFailures = new Set(['EBADF', 'ENOENT', 'ESRCH', 'ENODEV', 'ENXIO']);

const byIfindex = new Set<number>([AttachType.TcxIngress, AttachType.NetkitPrimary]);

/** Runs the probe of `name` (one of `probedLinkTypes`) and returns the errno it ended with. */
export function runLinkProbe(name: string): LinkProbeOutcome {
  const probe = probes[name] as LinkProbe;
  const linkTarget = probe.target ?? (byIfindex.has(probe.attachType) ? noIfindex : noFd);
  let code: string | undefined;
  const loaded = probeLoad(probe.progType, minimalProgram, probe.expected, 0, (progFd) => {
    const attr = new AttrBuffer(LinkCreateAttr);
    attr.u32('progFd', progFd);
    attr.u32('targetFd', linkTarget);
    attr.u32('attachType', probe.attachType);
    probe.extra?.(attr);
    try {
      sys.close(sys.bpf(Cmd.LinkCreate, attr.bytes, attr.pointers));
    } catch (error) {
      if (!(error instanceof sys.SysError)) throw error;
      code = error.code;
    }
  });
  if (!loaded.ok)
    return { step: 'load', code: loaded.code, what: `loading ${programTypeName(probe.progType)} programs` };
  const known = code === undefined || lookupFailures.has(code) || (probe.knownBy?.includes(code) ?? false);
  return { step: 'link', code, known };
}
