import { execFileSync } from 'node:child_process';
import { exit, mov64, R0 } from '@ebpf/asm';
import { NetworkNamespace, requireKernel } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/program.ts';
import { Link } from './index.ts';
import { attachNetfilter, NetfilterLink } from './netfilter.ts';
import { attachNetns, NetnsLink } from './netns.ts';

/** Sends `count` UDP datagrams to 127.0.0.1:`port` from inside `ns` (or here). */
function sendUdp(count: number, port: number, ns?: NetworkNamespace): void {
  const script = `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(${count}): s.sendto(b'x', ('127.0.0.1', ${port}))`;
  const argv = ns ? ns.argv('python3', '-c', script) : ['python3', '-c', script];
  execFileSync(argv[0]!, argv.slice(1));
}

requireKernel('attachNetns and attachNetfilter', () => {
  let counts: BpfMap<number, bigint>;
  let ns: NetworkNamespace;
  beforeAll(() => {
    counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
    ns = new NetworkNamespace(`ebpf-links-${process.pid}`);
  });
  afterAll(() => {
    counts?.close();
    ns?.remove();
  });
  const hits = () => counts.get(0) ?? 0n;

  it('runs a sk_lookup program for datagrams arriving in a test namespace, and only there', () => {
    using prog = BpfProgram.load({
      type: 'sk_lookup',
      instructions: countingProgram(1 /* SK_PASS */),
      license: 'GPL',
      maps: { counts },
    });
    using link = attachNetns(prog, ns.name);
    expect(link).toBeInstanceOf(NetnsLink);
    const before = hits();
    sendUdp(5, 9999, ns);
    const inside = hits() - before;
    expect(inside).toBeGreaterThanOrEqual(5n); // once per lookup the kernel makes for a datagram
    sendUdp(3, 9999); // this process's namespace: not the attached one
    expect(hits() - before).toBe(inside);
    expect(link.info()).toMatchObject({ attachType: 'sk_lookup' });
    using again = Link.fromId(link.id);
    expect(again).toBeInstanceOf(NetnsLink);
  });

  it('attaches a flow_dissector program to a namespace', () => {
    // BPF_FLOW_DISSECTOR_CONTINUE (129): the kernel's own dissector carries on.
    using prog = BpfProgram.load({
      type: 'flow_dissector',
      instructions: countingProgram(129),
      license: 'GPL',
      maps: { counts },
    });
    using link = attachNetns(prog, ns.name);
    expect(link.info()).toMatchObject({ typeName: 'netns', attachType: 'flow_dissector' });
    // With RPS on lo, every received packet is hashed to pick a CPU: the namespace's dissector runs.
    ns.exec('sh', '-c', 'echo 3 > /sys/class/net/lo/queues/rx-0/rps_cpus');
    const before = hits();
    sendUdp(5, 9997, ns);
    expect(hits() - before).toBeGreaterThanOrEqual(5n);
    expect(prog.run({ data: new Uint8Array(64) }).retval).toBe(129);
  });

  it('checks the namespace', () => {
    using prog = BpfProgram.load({ type: 'sk_lookup', instructions: [mov64(R0, 1), exit()], license: 'GPL' });
    expect(() => attachNetns(prog, 'no-such-namespace')).toThrow(NotFoundError);
    using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    expect(() => attachNetns(xdp)).toThrow(/sk_lookup or flow_dissector/);
  });

  it('runs a netfilter program on LOCAL_OUT for every datagram sent', () => {
    using prog = BpfProgram.load({
      type: 'netfilter',
      instructions: countingProgram(1 /* NF_ACCEPT */),
      license: 'GPL',
      maps: { counts },
    });
    using link = attachNetfilter(prog, { pf: 2, hooknum: 3, priority: -128 });
    expect(link).toBeInstanceOf(NetfilterLink);
    const before = hits();
    sendUdp(4, 9998);
    expect(hits() - before).toBeGreaterThanOrEqual(4n);
    expect(link.info()).toMatchObject({ netfilter: { pf: 2, hooknum: 3, priority: -128, flags: 0 } });
    expect(() => attachNetfilter(prog, { pf: 7, hooknum: 3, priority: 1 })).toThrow(InvalidArgumentError);
    expect(() => attachNetfilter(prog, { pf: 2, hooknum: 9, priority: 1 })).toThrow(/hooknum/);
  });
});
