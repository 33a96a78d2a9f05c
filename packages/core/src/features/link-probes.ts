/**
 * Link-type probes: load a tiny program of the right type, then ask BPF_LINK_CREATE to attach it
 * to a target that cannot exist. A kernel that knows the link type looks the target up and fails
 * (EBADF, ENOENT, ENODEV...); one that does not refuses the attach type itself (EINVAL, EOPNOTSUPP).
 * The two link types other commands create have probes of their own (raw tracepoints, struct_ops).
 */
import * as sys from '@ebpf/sys';
import {
  AttachType,
  AttrBuffer,
  Cmd,
  LinkCreateAttr,
  MapFlags,
  ProgType,
  RawTracepointOpenAttr,
} from '@ebpf/uapi';
import { NotFoundError } from '../errors.ts';
import { createMapFd } from '../map/ops.ts';
import { normalizeSpec } from '../map/spec.ts';
import { loadBtf, storageBtf } from '../map/storage-btf.ts';
import { kernelFunctionId } from '../program/kernel-btf.ts';
import { minimalProgram, probeLoad } from '../program/probe-load.ts';
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
  /** The kernel function the program attaches to, by its BTF id (iterators). */
  readonly attachBtfFunction?: string;
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
  // The bpf_map iterator needs no target: a kernel with iterator links creates the link.
  iter: {
    progType: ProgType.Tracing,
    attachType: AttachType.TraceIter,
    expected: AttachType.TraceIter,
    attachBtfFunction: 'bpf_iter_bpf_map',
    target: 0,
  },
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
export const probedLinkTypes: ReadonlySet<string> = new Set([
  ...Object.keys(probes),
  'raw_tracepoint',
  'struct_ops',
]);

/**
 * What a link probe found: the errno of the probe's set-up (loading its program, say), or of
 * the link creation and whether that errno shows the kernel knows the link type.
 */
export type LinkProbeOutcome =
  | { readonly step: 'setup'; readonly code: string | undefined; readonly what: string }
  | {
      readonly step: 'link';
      readonly code: string | undefined;
      readonly known: boolean;
      /** Why not, when the errno alone does not say. */
      readonly refusal?: string;
    };

/** Failed target lookups: the kernel got past the attach type, so it knows the link type. */
const lookupFailures = new Set(['EBADF', 'ENOENT', 'ESRCH', 'ENODEV', 'ENXIO']);

const byIfindex = new Set<number>([AttachType.TcxIngress, AttachType.NetkitPrimary]);

/** Runs the probe of `name` (one of `probedLinkTypes`) and returns the errno it ended with. */
export function runLinkProbe(name: string): LinkProbeOutcome {
  if (name === 'raw_tracepoint') return probeRawTracepoint();
  if (name === 'struct_ops') return probeStructOps();
  const probe = probes[name] as LinkProbe;
  const linkTarget = probe.target ?? (byIfindex.has(probe.attachType) ? noIfindex : noFd);
  let attachBtfId: number | undefined;
  if (probe.attachBtfFunction !== undefined) {
    try {
      attachBtfId = kernelFunctionId(probe.attachBtfFunction);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      return { step: 'setup', code: error.code, what: `finding ${probe.attachBtfFunction} in kernel BTF` };
    }
  }
  let code: string | undefined;
  const options = {
    expectedAttachType: probe.expected,
    ...(attachBtfId === undefined ? {} : { attachBtfId }),
  };
  const loaded = probeLoad(probe.progType, minimalProgram, options, (progFd) => {
    const attr = new AttrBuffer(LinkCreateAttr);
    attr.u32('progFd', progFd);
    attr.u32('targetFd', linkTarget);
    attr.u32('attachType', probe.attachType);
    probe.extra?.(attr);
    code = errnoOf(() => sys.close(sys.bpf(Cmd.LinkCreate, attr.bytes, attr.pointers)));
  });
  if (!loaded.ok) return loadFailed(probe.progType, loaded.code);
  const known = code === undefined || lookupFailures.has(code) || (probe.knownBy?.includes(code) ?? false);
  return { step: 'link', code, known };
}

/** The errno `call` failed with, or undefined when it succeeded. */
function errnoOf(call: () => void): string | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    if (!(error instanceof sys.SysError)) throw error;
    return error.code;
  }
}

function loadFailed(progType: number, code: string | undefined): LinkProbeOutcome {
  return { step: 'setup', code, what: `loading ${programTypeName(progType)} programs` };
}

/** A tracepoint every kernel with tracepoints has, and that fires rarely (on exec). */
const rareTracepoint = 'sched_process_exec';
const rareTracepointName = new TextEncoder().encode(`${rareTracepoint}\0`);

/**
 * BPF_RAW_TRACEPOINT_OPEN has opened raw tracepoints since Linux 4.17, but only since 5.7 is
 * what it returns a link: open one for real (for the instant of the probe) and look at the fd.
 */
function probeRawTracepoint(): LinkProbeOutcome {
  let kind: sys.FdKind | undefined;
  let code: string | undefined;
  const loaded = probeLoad(ProgType.RawTracepoint, minimalProgram, {}, (progFd) => {
    const attr = new AttrBuffer(RawTracepointOpenAttr);
    attr.pointer('name', rareTracepointName);
    attr.u32('progFd', progFd);
    code = errnoOf(() => {
      const fd = sys.bpf(Cmd.RawTracepointOpen, attr.bytes, attr.pointers);
      kind = sys.fdKind(fd);
      sys.close(fd);
    });
  });
  if (!loaded.ok) return loadFailed(ProgType.RawTracepoint, loaded.code);
  if (code !== undefined) return { step: 'setup', code, what: `opening raw tracepoint ${rareTracepoint}` };
  return kind === 'link'
    ? { step: 'link', code, known: true }
    : {
        step: 'link',
        code,
        known: false,
        refusal: 'raw tracepoints open as plain fds, not links (before Linux 5.7)',
      };
}

/** An id no kernel BTF type has. */
const noTypeId = 0x7fff_ffff;

/**
 * Creates a struct_ops map whose value type cannot exist, with `flags`, and returns the errno: a
 * kernel with struct_ops maps that accepts the flags fails looking the type up (ENOTSUPP); one
 * without them, or refusing the flags, says EINVAL.
 */
export function structOpsMapErrno(flags: number): string | undefined {
  const btf = loadBtf(storageBtf(4));
  try {
    const spec = {
      type: 'struct_ops',
      keySize: 4,
      valueSize: 4,
      maxEntries: 1,
      flags,
      btf: { fd: btf, vmlinuxValueTypeId: noTypeId },
    } as const;
    return errnoOf(() => sys.close(createMapFd(normalizeSpec(spec), -1)));
  } finally {
    sys.close(btf);
  }
}

/** struct_ops links came with the BPF_F_LINK flag of struct_ops maps (Linux 6.4). */
function probeStructOps(): LinkProbeOutcome {
  const code = structOpsMapErrno(MapFlags.Link);
  return { step: 'link', code, known: code === 'ENOTSUPP' };
}
