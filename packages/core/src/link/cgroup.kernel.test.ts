import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { AttachFlags, AttachType, LinkType } from '@ebpf/uapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/program.ts';
import { attachCgroup, CgroupLink, cgroup2Mount } from './cgroup.ts';
import { attachCgroupLegacy, queryCgroup } from './cgroup-legacy.ts';
import { Link } from './index.ts';

const v2 = cgroup2Mount();
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

const noV2 = v2 === undefined ? 'cgroup v2: no unified hierarchy mounted' : undefined;

requireKernel('attachCgroup', () => {
  let counts: BpfMap<number, bigint>;
  beforeAll(() => {
    if (!noV2) mkdirSync(cgroup);
    counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
  });
  const egressCounter = () =>
    BpfProgram.load({
      type: 'cgroup_skb',
      attachType: 'cgroup_inet_egress',
      instructions: counter,
      license: 'GPL',
      maps: { counts },
    });
  afterAll(() => {
    counts?.close();
    if (existsSync(cgroup)) rmdirSync(cgroup);
  });

  it.skipIf(skipUnsupported(noV2))('counts the egress packets of processes in a cgroup', () => {
    using prog = egressCounter();
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

  it.skipIf(skipUnsupported(noV2))(
    'attaches the legacy way (multi, replace, override), seen by queryCgroup',
    () => {
      using prog = egressCounter();
      using other = egressCounter();
      const before = counts.get(0) ?? 0n;
      {
        using first = attachCgroupLegacy(prog, cgroup, { mode: 'multi' });
        expect(first.attachType).toBe(AttachType.CgroupInetEgress);
        sendFromCgroup(3);
        expect((counts.get(0) ?? 0n) - before).toBeGreaterThanOrEqual(3n);
        const attached = queryCgroup(cgroup, 'cgroup_inet_egress');
        expect(attached.programIds).toEqual([prog.info().id]);
        expect(attached.attachFlags).toBe(AttachFlags.AllowMulti);
        // Swap in the other program atomically: the first is gone, its detach a no-op later.
        using swapped = attachCgroupLegacy(other, cgroup, { mode: 'multi', replace: prog });
        expect(queryCgroup(cgroup, 'cgroup_inet_egress').programIds).toEqual([other.info().id]);
        swapped.detach();
        expect(queryCgroup(cgroup, 'cgroup_inet_egress').programIds).toEqual([]);
        expect(() => first.detach()).toThrow(NotFoundError);
      }
      {
        using link = attachCgroup(other, cgroup);
        using _legacy = attachCgroupLegacy(prog, cgroup, { mode: 'multi' });
        const query = queryCgroup(cgroup, 'cgroup_inet_egress');
        expect(query.programIds).toEqual([other.info().id, prog.info().id]);
        // The link is named, the legacy attachment is not.
        expect(query.linkIds).toEqual([link.id]);
        expect(queryCgroup(cgroup, 'cgroup_inet_ingress').linkIds).toEqual([]);
        expect(queryCgroup(cgroup, 'cgroup_inet_egress', { effective: true }).programIds).toContain(
          other.info().id,
        );
      }
      using _overridable = attachCgroupLegacy(prog, cgroup, { mode: 'override' });
      expect(queryCgroup(cgroup, 'cgroup_inet_egress').attachFlags).toBe(AttachFlags.AllowOverride);
      expect(() => attachCgroupLegacy(prog, cgroup, { replace: other })).toThrow(
        /replace needs mode 'multi'/,
      );
    },
  );

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

  it('says a path is not cgroup2, and where cgroup2 is mounted', () => {
    using prog = egressCounter();
    const notCgroup = tmpdir();
    const where =
      v2 === undefined ? /no cgroup2 filesystem is mounted \(looked in/ : `cgroup2 is mounted at ${v2}`;
    expect(() => attachCgroup(prog, notCgroup)).toThrow(InvalidArgumentError);
    expect(() => attachCgroup(prog, notCgroup)).toThrow(`${notCgroup} is not a cgroup2 directory`);
    expect(() => attachCgroup(prog, notCgroup)).toThrow(where);
    const dir = openSync(notCgroup, 'r');
    try {
      expect(() => attachCgroup(prog, dir)).toThrow(`fd ${dir} is not an open cgroup2 directory`);
    } finally {
      closeSync(dir);
    }
  });

  it.skipIf(skipUnsupported(noV2))('updates a link only with a program of its type', () => {
    const load = (type: 'cgroup_skb' | 'xdp') =>
      BpfProgram.load({
        type,
        ...(type === 'cgroup_skb' ? { attachType: 'cgroup_inet_egress' as const } : {}),
        instructions: [mov64(R0, 1), exit()],
        license: 'GPL',
      });
    using prog = load('cgroup_skb');
    using other = load('cgroup_skb');
    using xdp = load('xdp');
    using link = attachCgroup(prog, cgroup);
    expect(() => link.update(xdp)).toThrow(InvalidArgumentError);
    expect(() => link.update(xdp)).toThrow(
      'the link runs a cgroup_skb program; a xdp program cannot replace it',
    );
    link.update(other);
    expect(link.info().progId).toBe(other.info().id);
  });
});
