import { ProgType } from '@ebpf/uapi';
import { type CapabilityName, effectiveCapabilities, holdsCapability } from '../internal/feature.ts';

/**
 * The capabilities `BPF_PROG_LOAD` asks for, by program type (kernel/bpf/syscall.c): CAP_BPF for
 * all, CAP_NET_ADMIN on top for programs that see or steer network traffic, CAP_PERFMON for those
 * that read kernel memory. Extensions may replace any program, so they need both.
 */
const networking: ReadonlySet<number> = new Set([
  ProgType.SchedCls,
  ProgType.SchedAct,
  ProgType.Xdp,
  ProgType.LwtIn,
  ProgType.LwtOut,
  ProgType.LwtXmit,
  ProgType.LwtSeg6local,
  ProgType.SkSkb,
  ProgType.SkMsg,
  ProgType.FlowDissector,
  ProgType.CgroupDevice,
  ProgType.CgroupSock,
  ProgType.CgroupSockAddr,
  ProgType.CgroupSockopt,
  ProgType.CgroupSysctl,
  ProgType.SockOps,
  ProgType.Ext,
  ProgType.Netfilter,
]);
const tracing: ReadonlySet<number> = new Set([
  ProgType.Kprobe,
  ProgType.Tracepoint,
  ProgType.PerfEvent,
  ProgType.RawTracepoint,
  ProgType.RawTracepointWritable,
  ProgType.Tracing,
  ProgType.Lsm,
  ProgType.StructOps,
  ProgType.Ext,
]);

/** The capabilities loading a program of `type` needs. */
export function capabilitiesToLoad(type: number): CapabilityName[] {
  const needed: CapabilityName[] = ['CAP_BPF'];
  if (networking.has(type)) needed.push('CAP_NET_ADMIN');
  if (tracing.has(type)) needed.push('CAP_PERFMON');
  return needed;
}

/**
 * Which of {@link capabilitiesToLoad} this process lacks, or undefined when its capabilities cannot
 * be read. The kernel lets CAP_SYS_ADMIN stand in for each of them.
 */
export function missingCapabilities(
  type: number,
  capabilities = effectiveCapabilities(),
): CapabilityName[] | undefined {
  if (capabilities === undefined) return undefined;
  if (holdsCapability(capabilities, 'CAP_SYS_ADMIN')) return [];
  return capabilitiesToLoad(type).filter((name) => !holdsCapability(capabilities, name));
}
