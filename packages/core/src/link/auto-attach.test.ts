import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { type AttachableSpec, attachesFromSection, planAttach } from './auto-attach.ts';
import { syscallFunction } from './kprobe.ts';

const spec = (section: string, type: string, attachType?: string, attachTo?: string): AttachableSpec => ({
  name: 'prog',
  section,
  type,
  attachType,
  attachTo,
});

describe('planAttach', () => {
  it.each([
    [spec('xdp', 'xdp'), { interface: 'eth0' }, { hook: 'xdp', iface: 'eth0' }],
    [spec('tcx/egress', 'sched_cls'), { interface: 3 }, { hook: 'tcx', iface: 3, direction: 'egress' }],
    [
      spec('tc/ingress', 'sched_cls'),
      { interface: 'lo' },
      { hook: 'tcx', iface: 'lo', direction: 'ingress' },
    ],
    [
      spec('cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'),
      { cgroup: '/sys/fs/cgroup/x' },
      { hook: 'cgroup', cgroup: '/sys/fs/cgroup/x', attachType: 'cgroup_inet_egress' },
    ],
    [
      spec('tp/syscalls/sys_enter_openat', 'tracepoint'),
      {},
      { hook: 'tracepoint', category: 'syscalls', name: 'sys_enter_openat' },
    ],
    [
      spec('tracepoint/sched/sched_switch', 'tracepoint', undefined, 'sched/sched_switch'),
      {},
      { hook: 'tracepoint', category: 'sched', name: 'sched_switch' },
    ],
    [spec('raw_tp/sys_enter', 'raw_tracepoint'), {}, { hook: 'raw_tracepoint', name: 'sys_enter' }],
    [spec('tp_btf/sched_switch', 'tracing', 'trace_raw_tp', 'sched_switch'), {}, { hook: 'tracing' }],
    [spec('fentry/do_unlinkat', 'tracing', 'trace_fentry', 'do_unlinkat'), {}, { hook: 'tracing' }],
    [spec('lsm/file_open', 'lsm', 'lsm_mac', 'file_open'), {}, { hook: 'tracing' }],
    [
      spec('lsm_cgroup/socket_bind', 'lsm', 'lsm_cgroup', 'socket_bind'),
      { cgroup: '/sys/fs/cgroup/x' },
      { hook: 'cgroup', cgroup: '/sys/fs/cgroup/x', attachType: 'lsm_cgroup' },
    ],
    [spec('iter/task', 'tracing', 'trace_iter', 'task'), {}, { hook: 'iter', options: {} }],
    [
      spec('kprobe/do_unlinkat+0x10', 'kprobe'),
      {},
      { hook: 'kprobe', fn: 'do_unlinkat', offset: 16, returnProbe: false },
    ],
    [
      spec('kretprobe/do_unlinkat', 'kprobe'),
      {},
      { hook: 'kprobe', fn: 'do_unlinkat', offset: 0, returnProbe: true },
    ],
    [
      spec('uprobe//proc/self/exe:func+0x10', 'kprobe'),
      {},
      { hook: 'uprobe', path: '/proc/self/exe', symbol: 'func', offset: 16, returnProbe: false },
    ],
    [
      spec('uretprobe//usr/lib/libc.so.6:malloc', 'kprobe'),
      {},
      { hook: 'uprobe', path: '/usr/lib/libc.so.6', symbol: 'malloc', offset: 0, returnProbe: true },
    ],
    [
      spec('uprobe//bin/x:0x1234', 'kprobe'),
      {},
      { hook: 'uprobe', path: '/bin/x', symbol: undefined, offset: 0x1234, returnProbe: false },
    ],
    [
      spec('uprobe.multi//bin/x:f', 'kprobe', 'trace_uprobe_multi'),
      {},
      { hook: 'uprobe_multi', path: '/bin/x', symbols: ['f'], returnProbe: false },
    ],
    [
      spec('kprobe.multi/do_*', 'kprobe', 'trace_kprobe_multi'),
      { symbols: ['do_a', 'do_b'] },
      { hook: 'kprobe_multi', symbols: ['do_a', 'do_b'], returnProbe: false },
    ],
    [
      spec('uprobe.s//bin/x:f', 'kprobe'),
      {},
      { hook: 'uprobe', path: '/bin/x', symbol: 'f', offset: 0, returnProbe: false },
    ],
    [
      spec('uretprobe.multi.s//bin/x:f', 'kprobe', 'trace_uprobe_multi'),
      {},
      { hook: 'uprobe_multi', path: '/bin/x', symbols: ['f'], returnProbe: true },
    ],
    [
      spec('uprobe.session//bin/x:f', 'kprobe', 'trace_uprobe_session'),
      {},
      { hook: 'uprobe_multi', path: '/bin/x', symbols: ['f'], returnProbe: false },
    ],
    [
      spec('kprobe.session/do_*', 'kprobe', 'trace_kprobe_session'),
      { symbols: ['do_a'] },
      { hook: 'kprobe_multi', symbols: ['do_a'], returnProbe: false },
    ],
    [
      spec('kretsyscall/openat', 'kprobe'),
      {},
      { hook: 'kprobe', fn: syscallFunction('openat'), offset: 0, returnProbe: true },
    ],
    [
      spec('usdt//usr/lib/libc.so.6:libc:setjmp', 'kprobe'),
      {},
      { hook: 'usdt', path: '/usr/lib/libc.so.6', provider: 'libc', name: 'setjmp' },
    ],
    [
      spec('usdt.s/node:node:gc__start', 'kprobe'),
      {},
      { hook: 'usdt', path: 'node', provider: 'node', name: 'gc__start' },
    ],
    [
      spec('usdt', 'kprobe'),
      { usdt: { path: '/bin/x', provider: 'p', name: 'n' } },
      { hook: 'usdt', path: '/bin/x', provider: 'p', name: 'n' },
    ],
    [spec('sk_lookup', 'sk_lookup'), { netns: 'blue' }, { hook: 'netns', netns: 'blue' }],
    [
      spec('netfilter', 'netfilter'),
      { netfilter: { pf: 2, hooknum: 1, priority: 0 } },
      { hook: 'netfilter', options: { pf: 2, hooknum: 1, priority: 0 } },
    ],
  ] as const)('%j with %j', (s, options, plan) => {
    expect(planAttach(s, options)).toEqual(plan);
  });

  it.each([
    [spec('xdp', 'xdp'), /needs the 'interface' option/],
    [spec('tcx/egress', 'sched_cls'), /needs the 'interface' option/],
    [spec('tc', 'sched_cls'), /tcx\/ingress or tcx\/egress/],
    [spec('cgroup_skb/egress', 'cgroup_skb'), /needs the 'cgroup' option/],
    [spec('perf_event', 'perf_event'), /needs the 'perfEvent' option/],
    [spec('sk_lookup', 'sk_lookup'), /needs the 'netns' option/],
    [spec('kprobe.multi/do_*', 'kprobe'), /needs the 'symbols' option/],
    [spec('uprobe.multi//bin/x:do_*', 'kprobe'), /needs the 'symbols' option/],
    [spec('tp/syscalls', 'tracepoint'), /tp\/CATEGORY\/NAME/],
    [spec('uprobe/func', 'kprobe'), /uprobe\/PATH:FUNCTION/],
    [spec('usdt/x', 'kprobe'), /does not name a USDT probe: write it as usdt\/PATH:PROVIDER:NAME/],
    [spec('usdt//bin/x:p', 'kprobe'), /usdt\/PATH:PROVIDER:NAME/],
    [spec('usdt', 'kprobe'), /needs the 'usdt' option/],
    [spec('lsm_cgroup/socket_bind', 'lsm', 'lsm_cgroup'), /needs the 'cgroup' option/],
    [spec('xdp/devmap', 'xdp', 'xdp_devmap'), /runs from devmap entries, not on an interface/],
    [spec('netkit/peer', 'sched_cls', 'netkit_peer'), /netkit links are not supported yet/],
    [spec('usdt.s/x:y', 'kprobe'), /usdt\/PATH:PROVIDER:NAME/],
    [spec('ksyscall/', 'kprobe'), /does not name a system call/],
    [spec('socket', 'socket_filter'), /cannot be attached from its section/],
  ] as const)('%j says what is missing', (s, message) => {
    expect(() => planAttach(s)).toThrow(InvalidArgumentError);
    expect(() => planAttach(s)).toThrow(message);
  });
});

describe('attachesFromSection', () => {
  it.each([
    [spec('tp/syscalls/sys_enter_openat', 'tracepoint'), true],
    [spec('kprobe/do_unlinkat', 'kprobe'), true],
    [spec('xdp', 'xdp'), true],
    [spec('xdp/cpumap', 'xdp', 'xdp_cpumap'), false],
    [spec('tcx/ingress', 'sched_cls', 'tcx_ingress'), true],
    [spec('tc', 'sched_cls'), false],
    [spec('netkit/primary', 'sched_cls', 'netkit_primary'), false],
    [spec('cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress'), true],
    [spec('cgroup/skb', 'cgroup_skb'), false],
    [spec('socket', 'socket_filter'), false],
    // Bare sections name nothing: libbpf leaves them for a manual attach, as attachAll does.
    [spec('kprobe', 'kprobe'), false],
    [spec('uprobe', 'kprobe'), false],
    [spec('usdt', 'kprobe'), false],
    [spec('usdt//bin/x:p:n', 'kprobe'), true],
    [spec('tp', 'tracepoint'), false],
    [spec('raw_tp', 'raw_tracepoint'), false],
  ] as const)('%j: %s', (s, expected) => {
    expect(attachesFromSection(s)).toBe(expected);
  });
});
