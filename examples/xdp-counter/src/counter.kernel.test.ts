import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { requireKernel } from '@ebpf/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PacketCounter } from './counter.ts';

// The example attaches to `lo`; its test uses a veth pair of its own: datagrams sent out of `a`
// to a neighbour with `b`'s MAC address arrive at `b`, where the counter is attached.
const tag = (process.pid % 100_000).toString(36);
const a = `exc${tag}a`;
const b = `exc${tag}b`;
const subnet = `10.${150 + (process.pid % 50)}.${process.pid % 250}`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

requireKernel('xdp-counter example', () => {
  beforeAll(() => {
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    // No IPv6 chatter (router solicitations, DAD) arriving at b while the test counts.
    for (const name of [a, b]) writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, '1');
    ip('addr', 'add', `${subnet}.1/24`, 'dev', a);
    ip('link', 'set', a, 'up');
    ip('link', 'set', b, 'up');
    const mac = readFileSync(`/sys/class/net/${b}/address`, 'utf8').trim();
    ip('neigh', 'replace', `${subnet}.2`, 'lladdr', mac, 'dev', a, 'nud', 'permanent');
  });

  afterAll(() => {
    try {
      ip('link', 'del', a);
    } catch {
      // Already gone.
    }
  });

  it('counts the packets and bytes that arrive', async () => {
    using counter = new PacketCounter();
    counter.attach(b);
    const before = counter.read();

    const socket = createSocket('udp4');
    const payload = Buffer.alloc(100, 0x61);
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) =>
        socket.send(payload, 9999, `${subnet}.2`, (error) => (error ? reject(error) : resolve())),
      );
    }
    socket.close();
    await new Promise((resolve) => setTimeout(resolve, 100));

    const after = counter.read();
    expect(after.packets - before.packets).toBeGreaterThanOrEqual(10n);
    // Ethernet (14) + IPv4 (20) + UDP (8) + 100 bytes of payload per datagram.
    expect(after.bytes - before.bytes).toBeGreaterThanOrEqual(10n * 142n);
  });
});
