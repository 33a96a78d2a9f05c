import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel, VethPair } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { LinkType, XdpAction } from '@ebpf/uapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfError, ClosedError, InvalidArgumentError, NotFoundError, NotSupportedError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { ensureBpffs } from '../pin.ts';
import { BpfProgram } from '../program/program.ts';
import { Link } from './index.ts';
import { attachTcx, TcxLink } from './tcx.ts';
import { attachXdp, interfaceIndex, XdpLink } from './xdp.ts';

/** A veth pair in the root namespace: traffic sent out of `a` arrives at `b`. */
let veth: VethPair;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** counts[0] += 1 for every packet, then `verdict` (XDP_PASS by default). */
const counter = (verdict: number = XdpAction.Pass) => countingProgram(verdict);

function count(map: BpfMap): bigint {
  const value = map.get(new Uint8Array(4)) as Uint8Array;
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(0, true);
}

/** Sends `n` UDP datagrams out of `a` to a neighbour whose MAC is `b`'s, so they arrive at `b`. */
async function sendThrough(n: number): Promise<void> {
  const socket = createSocket('udp4');
  try {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve, reject) =>
        socket.send(Buffer.from(`packet ${i}`), 9, veth.peerAddress, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
    }
  } finally {
    socket.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
}

requireKernel('attachXdp and attachTcx', () => {
  const pinDir = `/sys/fs/bpf/ebpf-core-xdp-test-${process.pid}`;
  let counts: BpfMap;
  let prog: BpfProgram;

  beforeAll(() => {
    veth = new VethPair('ebx');
    counts = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    prog = BpfProgram.load({
      type: 'xdp',
      instructions: counter(),
      license: 'GPL',
      name: 'xdp_count',
      maps: { counts },
    });
  });

  afterAll(() => {
    prog?.close();
    counts?.close();
    rmSync(pinDir, { recursive: true, force: true });
    veth?.remove();
  });

  it('attaches through a link in generic mode, counts traffic, and detaches on close', async () => {
    const before = count(counts);
    const link = attachXdp(prog, veth.b, { mode: 'generic' });
    expect(link).toBeInstanceOf(XdpLink);
    expect(link.ifindex).toBe(interfaceIndex(veth.b));
    expect(link.mode).toBe('generic');
    await sendThrough(5);
    const during = count(counts);
    expect(during - before).toBeGreaterThanOrEqual(5n);

    const info = link.info();
    expect(info.type).toBe(LinkType.Xdp);
    expect(info.typeName).toBe('xdp');
    expect(info.progId).toBe(prog.info().id);
    expect(info.ifindex).toBe(interfaceIndex(veth.b));
    expect(Link.list().some((l) => l.id === info.id)).toBe(true);

    link.close();
    expect(() => link.info()).toThrow(ClosedError);
    await sendThrough(3);
    expect(count(counts)).toBe(during);
  });

  it('attaches in driver mode on veth and by interface index', async () => {
    using link = attachXdp(prog, interfaceIndex(veth.b), { mode: 'driver' });
    const before = count(counts);
    await sendThrough(2);
    expect(count(counts) - before).toBeGreaterThanOrEqual(2n);
    expect(link.info().ifindex).toBe(interfaceIndex(veth.b));
  });

  it('picks driver mode where the driver has native XDP, generic mode elsewhere', () => {
    {
      using link = attachXdp(prog, veth.b);
      expect(link.mode).toBe('driver');
    }
    const other = `${veth.b.slice(0, -1)}i`; // an ifb beside the pair, which has no native XDP
    ip('link', 'add', other, 'type', 'ifb');
    try {
      expect(() => attachXdp(prog, other, { mode: 'driver' })).toThrow(/use mode 'generic'/);
      using link = attachXdp(prog, other);
      expect(link.mode).toBe('generic');
      expect(link.info().ifindex).toBe(interfaceIndex(other));
    } finally {
      ip('link', 'del', other);
    }
  });

  it('replaces the program of a link atomically', async () => {
    using drops = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    using other = BpfProgram.load({
      type: 'xdp',
      instructions: counter(XdpAction.Pass),
      license: 'GPL',
      maps: { counts: drops },
    });
    using link = attachXdp(prog, veth.b, { mode: 'generic' });
    link.update(other);
    expect(link.info().progId).toBe(other.info().id);
    const before = count(counts);
    await sendThrough(3);
    expect(count(drops)).toBeGreaterThanOrEqual(3n);
    expect(count(counts)).toBe(before);
    expect(() => link.update(prog, prog)).toThrow(BpfError);
    link.update(prog, other);
    expect(link.info().progId).toBe(prog.info().id);
  });

  it('pins a link and opens it again by pin and by id', () => {
    ensureBpffs();
    using link = attachXdp(prog, veth.b, { mode: 'generic' });
    const path = `${pinDir}/link`;
    link.pin(path);
    using pinned = Link.fromPin(path);
    expect(pinned).toBeInstanceOf(XdpLink);
    expect((pinned as XdpLink).ifindex).toBe(interfaceIndex(veth.b));
    using byId = Link.fromId(link.info().id);
    expect(byId.info().progId).toBe(prog.info().id);
    expect(link.unpin(path)).toBe(true);
  });

  it('detaches a link that stays open, and opens links by fd', async () => {
    using link = attachXdp(prog, veth.b, { mode: 'generic' });
    using again = Link.fromFd(link.fd);
    expect(again).toBeInstanceOf(XdpLink);
    expect(Link.ids()).toContain(link.info().id);
    link.detach();
    const before = count(counts);
    await sendThrough(2);
    expect(count(counts)).toBe(before);
    expect(() => Link.fromFd(prog.fd)).toThrow(/a BPF prog, not a link/);
  });

  it('refuses a second program in the same mode', () => {
    using link = attachXdp(prog, veth.b, { mode: 'generic' });
    expect(link.closed).toBe(false);
    expect(() => attachXdp(prog, veth.b, { mode: 'generic' })).toThrow(/already|EBUSY|EEXIST/);
  });

  it('reports offload as not supported on veth', () => {
    expect(() => attachXdp(prog, veth.b, { mode: 'offload' })).toThrow(NotSupportedError);
  });

  it('attaches sched_cls programs to tcx, in order, ingress and egress', async () => {
    using second = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const tcxNext = -1;
    using last = BpfProgram.load({
      type: 'sched_cls',
      instructions: counter(tcxNext),
      license: 'GPL',
      maps: { counts },
    });
    using first = BpfProgram.load({
      type: 'sched_cls',
      instructions: counter(tcxNext),
      license: 'GPL',
      maps: { counts: second },
    });
    using ingress = attachTcx(last, veth.b);
    using before = attachTcx(first, veth.b, { position: 'first' });
    using egress = attachTcx(first, veth.a, { direction: 'egress' });
    const [c0, s0] = [count(counts), count(second)];
    await sendThrough(3);
    expect(count(counts) - c0).toBeGreaterThanOrEqual(3n);
    // `first` sees each datagram twice: leaving a (egress) and arriving at b (ingress, first).
    expect(count(second) - s0).toBeGreaterThanOrEqual(6n);
    expect(ingress.direction).toBe('ingress');
    expect(before.ifindex).toBe(interfaceIndex(veth.b));
    const info = egress.info();
    expect(info.type).toBe(LinkType.Tcx);
    expect(info.ifindex).toBe(interfaceIndex(veth.a));
    using again = Link.fromId(info.id);
    expect(again).toBeInstanceOf(TcxLink);
    expect((again as TcxLink).direction).toBe('egress');
    expect(() => attachTcx(prog, veth.b)).toThrow(/needs a sched_cls program/);
    expect(() => attachTcx(last, veth.b, { direction: 'sideways' as never })).toThrow(InvalidArgumentError);
  });

  it('checks its arguments', () => {
    using filter = BpfProgram.load({
      type: 'socket_filter',
      instructions: [mov64(R0, 0), exit()],
      license: 'GPL',
    });
    expect(() => attachXdp(filter, veth.b)).toThrow(InvalidArgumentError);
    expect(() => attachXdp(prog, 'no-such-if0')).toThrow(NotFoundError);
    expect(() => attachXdp(prog, veth.b, { mode: 'fast' as never })).toThrow(/mode must be/);
    const closed = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    closed.close();
    expect(() => attachXdp(closed, veth.b)).toThrow(ClosedError);
  });
});

describe('interfaceIndex', () => {
  it('passes indexes through and rejects bad names', () => {
    expect(interfaceIndex(7)).toBe(7);
    expect(() => interfaceIndex(0)).toThrow(InvalidArgumentError);
    expect(() => interfaceIndex('a/b')).toThrow(InvalidArgumentError);
  });
});
