import { createSocket } from 'node:dgram';
import { requireKernel, VethPair } from '@ebpf/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PacketCounter } from './counter.ts';

// The example attaches to `lo`; its test uses a veth pair of its own: datagrams sent out of `a`
// to `peerAddress` arrive at `b`, where the counter is attached.
requireKernel('xdp-counter example', () => {
  let pair: VethPair;
  beforeAll(() => {
    pair = new VethPair('exc');
  });
  afterAll(() => pair.remove());

  it('counts the packets and bytes that arrive', async () => {
    using counter = new PacketCounter();
    counter.attach(pair.b);
    const before = counter.read();

    const socket = createSocket('udp4');
    const payload = Buffer.alloc(100, 0x61);
    for (let i = 0; i < 10; i++) {
      await new Promise<void>((resolve, reject) =>
        socket.send(payload, 9999, pair.peerAddress, (error) => (error ? reject(error) : resolve())),
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
