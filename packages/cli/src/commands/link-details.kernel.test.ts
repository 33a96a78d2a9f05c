import { existsSync, statSync } from 'node:fs';
import { exit, mov64, R0 } from '@ebpf/asm';
import { attachCgroup, attachRawTracepoint, attachTracepoint, BpfProgram } from '@ebpf/core';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { main } from '../main.ts';
import { memoryIo } from '../testing.ts';

async function linkShow(id: number) {
  const io = memoryIo();
  const code = await main(['link', 'show', String(id), '--json'], io);
  expect(code, io.stderrText()).toBe(0);
  return JSON.parse(io.stdoutText());
}

/** Where cgroup2 is mounted: the unified hierarchy of a hybrid host, or the usual place. */
const cgroup2 = existsSync('/sys/fs/cgroup/unified/cgroup.procs')
  ? '/sys/fs/cgroup/unified'
  : '/sys/fs/cgroup';

const returns = (value: number) => [mov64(R0, value), exit()];

requireKernel('ebpf link show details (kernel)', () => {
  it('names the tracepoint of a raw_tracepoint link', async () => {
    using prog = BpfProgram.load({ type: 'raw_tracepoint', license: 'GPL', instructions: returns(0) });
    using link = attachRawTracepoint(prog, 'sched_switch');
    const shown = await linkShow(link.info().id);
    expect(shown).toMatchObject({ type: 'raw_tracepoint', tracepoint: 'sched_switch' });
    expect(shown.details).toBe('tp_name sched_switch');
  });

  it('names the event and tracepoint of a perf_event link', async () => {
    using prog = BpfProgram.load({ type: 'tracepoint', license: 'GPL', instructions: returns(0) });
    using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
    const shown = await linkShow(link.info().id);
    expect(shown).toMatchObject({
      type: 'perf_event',
      perfEvent: 'tracepoint',
      tracepoint: 'sys_enter_getppid',
    });
    expect(shown.details).toBe('event tracepoint tp_name sys_enter_getppid');
  });

  it('gives the cgroup id and attach type of a cgroup link', async () => {
    using prog = BpfProgram.load({
      type: 'cgroup_skb',
      attachType: 'cgroup_inet_ingress',
      license: 'GPL',
      instructions: returns(1),
    });
    using link = attachCgroup(prog, cgroup2);
    const shown = await linkShow(link.info().id);
    expect(shown.attachType).toBe('cgroup_inet_ingress');
    const id = statSync(cgroup2, { bigint: true }).ino; // a cgroup's id is its kernfs inode
    expect(shown.cgroupId).toBe(Number(id));
    expect(shown.details).toBe(`cgroup_id ${id} attach_type cgroup_inet_ingress`);
  });
});
