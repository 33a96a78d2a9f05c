import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { AttachType, LinkType } from '@ebpf/uapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { Link } from '../link/link.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/program.ts';
import { countingProgram } from '../testing/programs.ts';
import { attachCgroup, CgroupLink } from './cgroup.ts';

const root = '/sys/fs/cgroup/unified';
const v2 = existsSync(`${root}/cgroup.procs`) ? root : '/sys/fs/cgroup';
const cgroup = `${v2}/ebpf-core-test-${process.pid}`;

/** counts[0] += 1 for every packet, then allow it (1). */
const counter = countingProgram(1);

/** Runs a Node child that joins the test cgroup and sends `n` UDP datagrams. */
function sendFromCgroup(n: number): void {
  const script = `
    require('node:fs').writeFileSync(${JSON.stringify(`${cgroup}/cgroup.procs`)}, String(process.pid));
    const s = require('node:dgram').createSocket('udp4');
    let left = ${n};
    const next = () => (left-- === 0 ? s.close() : s.send('x', 9, '127.0.0.1', next));
    next();`;
  execFileSync(process.execPath, ['-e', script]);
}

const noV2 = existsSync(`${v2}/cgroup.procs`) ? undefined : 'cgroup v2: no unified hierarchy mounted';

requireKernel('attachCgroup', () => {
  let counts: BpfMap<number, bigint>;
  beforeAll(() => {
    if (!noV2) mkdirSync(cgroup);
    counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
  });
  afterAll(() => {
    counts?.close();
    if (existsSync(cgroup)) rmdirSync(cgroup);
  });

  it.skipIf(skipUnsupported(noV2))('counts the egress packets of processes in a cgroup', () => {
    using prog = BpfProgram.load({
      type: 'cgroup_skb',
      attachType: 'cgroup_inet_egress',
      instructions: counter,
      license: 'GPL',
      maps: { counts },
    });
    const before = counts.get(0) ?? 0n;
    {
      using link = attachCgroup(prog, cgroup);
      expect(link.attachType).toBe(AttachType.CgroupInetEgress);
      expect(link.attachTypeName).toBe('cgroup_inet_egress');
      sendFromCgroup(4);
      expect((counts.get(0) ?? 0n) - before).toBeGreaterThanOrEqual(4n);
      const info = link.info();
      expect(info.type).toBe(LinkType.Cgroup);
      using again = Link.fromId(info.id);
      expect(again).toBeInstanceOf(CgroupLink);
      expect((again as CgroupLink).attachType).toBe(AttachType.CgroupInetEgress);
    }
    const after = counts.get(0) ?? 0n;
    sendFromCgroup(2);
    expect(counts.get(0)).toBe(after);
  });

  it('checks its arguments', () => {
    using prog = BpfProgram.load({
      type: 'cgroup_skb',
      instructions: counter,
      license: 'GPL',
      maps: { counts },
    });
    expect(() => attachCgroup(prog, cgroup)).toThrow(/needs an attachType/);
    expect(() => attachCgroup(prog, '/no/such/cgroup', 'cgroup_inet_ingress')).toThrow(NotFoundError);
    expect(() => attachCgroup(prog, -1, 'cgroup_inet_ingress')).toThrow(InvalidArgumentError);
  });
});
