import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { exit, mov64, R0 } from '@ebpf/asm';
import * as sys from '@ebpf/sys';
import { requireKernel } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/program.ts';
import { attachReuseport } from './reuseport.ts';

/** A loopback port free a moment ago (Node binds port 0, reports the port, lets it go). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Opens a TCP connection to 127.0.0.1:port and closes it once established. */
async function connectOnce(port: number): Promise<void> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.destroy();
}

requireKernel('attachReuseport', () => {
  it('runs for every connection into a SO_REUSEPORT group, until detached', async () => {
    using counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
    // counts[0] += 1 for each incoming connection, then SK_PASS (1): the kernel picks the socket.
    using prog = BpfProgram.load({
      type: 'sk_reuseport',
      attachType: 'sk_reuseport_select',
      instructions: countingProgram(1),
      license: 'GPL',
      maps: { counts },
    });
    const port = await freePort();
    const group = [sys.reuseportSocket(true, port), sys.reuseportSocket(true, port)];
    try {
      {
        using attachment = attachReuseport(prog, group[0] as number);
        expect(attachment.socketFd).toBe(group[0]);
        for (let i = 0; i < 3; i++) await connectOnce(port);
        expect(counts.get(0)).toBe(3n);
      }
      await connectOnce(port);
      expect(counts.get(0)).toBe(3n);
    } finally {
      for (const fd of group) sys.close(fd);
    }
  });

  it('reaches the kernel and says when the socket is in no SO_REUSEPORT group', async () => {
    // Node 20 cannot set SO_REUSEPORT on its sockets: what this shows is the kernel's answer for
    // a socket outside any group, turned into what to do.
    using prog = BpfProgram.load({
      type: 'sk_reuseport',
      attachType: 'sk_reuseport_select',
      instructions: [mov64(R0, 1), exit()],
      license: 'GPL',
    });
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    try {
      expect(() => attachReuseport(prog, socket)).toThrow(InvalidArgumentError);
      expect(() => attachReuseport(prog, socket)).toThrow(/in no SO_REUSEPORT group: set SO_REUSEPORT/);
    } finally {
      socket.close();
    }
    using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    expect(() => attachReuseport(xdp, 0)).toThrow(/needs a sk_reuseport program/);
  });
});
