/**
 * libbpf's `SEC()` conventions: what a code section's name says about the program in it. The
 * rows are facts from libbpf's `section_defs` table (only program and attach types this
 * package's uapi has), matched the way libbpf matches them: first row wins.
 */
import { ProgLoadFlags } from '@ebpf/uapi';

/** What a program's section name tells the loader. */
export interface SectionKind {
  /** The program type as `BpfProgram.load` names it (`'xdp'`, `'tracing'`...). */
  readonly type: string;
  /** The expected attach type as core's `resolveAttachType` names it, or undefined. */
  readonly attachType: string | undefined;
  /** What follows the section's `/` in a `type+` form: `'do_unlinkat'`, `'syscalls/sys_enter_openat'`. */
  readonly attachTo: string | undefined;
  /** `BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`. */
  readonly flags: number;
  /** False for `SEC("?...")`: the program is parsed but not loaded unless asked for. */
  readonly autoload: boolean;
}

const SLEEPABLE = ProgLoadFlags.Sleepable;
const FRAGS = ProgLoadFlags.XdpHasFrags;

/**
 * One row: the section pattern (`name` exactly; `name+` also `name/target`), program type,
 * attach type, load flags.
 */
type Row = readonly [pattern: string, type: string, attachType?: string | undefined, flags?: number];

export const sectionTable: readonly Row[] = [
  ['socket', 'socket_filter'],
  ['sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate'],
  ['sk_reuseport', 'sk_reuseport', 'sk_reuseport_select'],
  ['kprobe+', 'kprobe'],
  ['uprobe+', 'kprobe'],
  ['uprobe.s+', 'kprobe', undefined, SLEEPABLE],
  ['kretprobe+', 'kprobe'],
  ['uretprobe+', 'kprobe'],
  ['uretprobe.s+', 'kprobe', undefined, SLEEPABLE],
  ['kprobe.multi+', 'kprobe', 'trace_kprobe_multi'],
  ['kretprobe.multi+', 'kprobe', 'trace_kprobe_multi'],
  ['kprobe.session+', 'kprobe', 'trace_kprobe_session'],
  ['uprobe.multi+', 'kprobe', 'trace_uprobe_multi'],
  ['uretprobe.multi+', 'kprobe', 'trace_uprobe_multi'],
  ['uprobe.session+', 'kprobe', 'trace_uprobe_session'],
  ['uprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', SLEEPABLE],
  ['uretprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', SLEEPABLE],
  ['uprobe.session.s+', 'kprobe', 'trace_uprobe_session', SLEEPABLE],
  ['ksyscall+', 'kprobe'],
  ['kretsyscall+', 'kprobe'],
  ['usdt+', 'kprobe'],
  ['usdt.s+', 'kprobe', undefined, SLEEPABLE],
  ['tc/ingress', 'sched_cls', 'tcx_ingress'],
  ['tc/egress', 'sched_cls', 'tcx_egress'],
  ['tcx/ingress', 'sched_cls', 'tcx_ingress'],
  ['tcx/egress', 'sched_cls', 'tcx_egress'],
  ['tc', 'sched_cls'],
  ['classifier', 'sched_cls'],
  ['action', 'sched_act'],
  ['netkit/primary', 'sched_cls', 'netkit_primary'],
  ['netkit/peer', 'sched_cls', 'netkit_peer'],
  ['tracepoint+', 'tracepoint'],
  ['tp+', 'tracepoint'],
  ['tracepoint.s+', 'tracepoint', undefined, SLEEPABLE],
  ['tp.s+', 'tracepoint', undefined, SLEEPABLE],
  ['raw_tracepoint+', 'raw_tracepoint'],
  ['raw_tp+', 'raw_tracepoint'],
  ['raw_tracepoint.s+', 'raw_tracepoint', undefined, SLEEPABLE],
  ['raw_tp.s+', 'raw_tracepoint', undefined, SLEEPABLE],
  ['raw_tracepoint.w+', 'raw_tracepoint_writable'],
  ['raw_tp.w+', 'raw_tracepoint_writable'],
  ['tp_btf+', 'tracing', 'trace_raw_tp'],
  ['tp_btf.s+', 'tracing', 'trace_raw_tp', SLEEPABLE],
  ['fentry+', 'tracing', 'trace_fentry'],
  ['fmod_ret+', 'tracing', 'modify_return'],
  ['fexit+', 'tracing', 'trace_fexit'],
  ['fentry.s+', 'tracing', 'trace_fentry', SLEEPABLE],
  ['fmod_ret.s+', 'tracing', 'modify_return', SLEEPABLE],
  ['fexit.s+', 'tracing', 'trace_fexit', SLEEPABLE],
  ['freplace+', 'ext'],
  ['lsm+', 'lsm', 'lsm_mac'],
  ['lsm.s+', 'lsm', 'lsm_mac', SLEEPABLE],
  ['lsm_cgroup+', 'lsm', 'lsm_cgroup'],
  ['iter+', 'tracing', 'trace_iter'],
  ['iter.s+', 'tracing', 'trace_iter', SLEEPABLE],
  ['syscall', 'syscall', undefined, SLEEPABLE],
  ['xdp.frags/devmap', 'xdp', 'xdp_devmap', FRAGS],
  ['xdp/devmap', 'xdp', 'xdp_devmap'],
  ['xdp.frags/cpumap', 'xdp', 'xdp_cpumap', FRAGS],
  ['xdp/cpumap', 'xdp', 'xdp_cpumap'],
  ['xdp.frags', 'xdp', 'xdp', FRAGS],
  ['xdp', 'xdp', 'xdp'],
  ['perf_event', 'perf_event'],
  ['lwt_in', 'lwt_in'],
  ['lwt_out', 'lwt_out'],
  ['lwt_xmit', 'lwt_xmit'],
  ['lwt_seg6local', 'lwt_seg6local'],
  ['sockops', 'sock_ops', 'cgroup_sock_ops'],
  ['sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser'],
  ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict'],
  ['sk_skb/verdict', 'sk_skb', 'sk_skb_verdict'],
  ['sk_skb', 'sk_skb'],
  ['sk_msg', 'sk_msg', 'sk_msg_verdict'],
  ['lirc_mode2', 'lirc_mode2', 'lirc_mode2'],
  ['flow_dissector', 'flow_dissector', 'flow_dissector'],
  ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress'],
  ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'],
  ['cgroup/skb', 'cgroup_skb'],
  ['cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create'],
  ['cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release'],
  ['cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create'],
  ['cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind'],
  ['cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind'],
  ['cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind'],
  ['cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind'],
  ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect'],
  ['cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect'],
  ['cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect'],
  ['cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg'],
  ['cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg'],
  ['cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg'],
  ['cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg'],
  ['cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg'],
  ['cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg'],
  ['cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername'],
  ['cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername'],
  ['cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername'],
  ['cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname'],
  ['cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname'],
  ['cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname'],
  ['cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl'],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt'],
  ['cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt'],
  ['cgroup/dev', 'cgroup_device', 'cgroup_device'],
  ['struct_ops+', 'struct_ops'],
  ['struct_ops.s+', 'struct_ops', undefined, SLEEPABLE],
  ['sk_lookup', 'sk_lookup', 'sk_lookup'],
  ['netfilter', 'netfilter', 'netfilter'],
];

/**
 * What libbpf makes of the code section `name`, or undefined when no row matches (libbpf
 * refuses such a program; the caller records that on the program rather than failing).
 */
export function programSection(name: string): SectionKind | undefined {
  const autoload = !name.startsWith('?');
  const bare = autoload ? name : name.slice(1);
  for (const [pattern, type, attachType, flags = 0] of sectionTable) {
    const attachTo = matchPattern(pattern, bare);
    if (attachTo === false) continue;
    return { type, attachType, attachTo, flags, autoload };
  }
  return undefined;
}

/** False when `name` does not match; else what follows the `/` of a `+` form (or undefined). */
function matchPattern(pattern: string, name: string): string | undefined | false {
  if (!pattern.endsWith('+')) return name === pattern ? undefined : false;
  const prefix = pattern.slice(0, -1);
  if (name === prefix) return undefined;
  return name.startsWith(`${prefix}/`) ? name.slice(prefix.length + 1) : false;
}
