import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { requireKernel } from '@ebpf/test-utils';
import { buildSource, requireTools, Scratch, vmlinuxHeader } from '@ebpf/test-utils/clang';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectLatency } from './connect-latency.ts';

requireKernel('tcp-connect-latency example', () => {
  const scratch = new Scratch();
  let latency: ConnectLatency;
  let server: Server;
  const accepted: Socket[] = [];

  beforeAll(() => {
    requireTools(['clang-16', 'bpftool']);
    const object = buildSource(scratch, new URL('./tcp-connect-latency.bpf.c', import.meta.url), 'bpfel', [
      vmlinuxHeader(scratch),
    ]);
    latency = new ConnectLatency(object);
    server = createServer((socket) => accepted.push(socket));
  });
  afterAll(() => {
    for (const socket of accepted) socket.destroy();
    server.close();
    latency.close();
    scratch.dispose();
  });

  /** Connects to the server on `host` and returns the connection the program recorded for it. */
  async function connectOnce(host: string) {
    server.listen(0, host);
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const client = connect(port, host);
    await once(client, 'connect');
    const sourcePort = client.localPort;
    client.destroy();
    server.close();
    // ESTABLISHED is reached before 'connect' fires, so the record is waiting already.
    return { port, sourcePort, recorded: latency.read().filter((c) => c.destinationPort === port) };
  }

  it('records an IPv4 connection on loopback with its ports and latency', async () => {
    const { port, sourcePort, recorded } = await connectOnce('127.0.0.1');
    expect(recorded).toEqual([
      expect.objectContaining({
        pid: process.pid,
        family: 'ipv4',
        source: '127.0.0.1',
        sourcePort,
        destination: '127.0.0.1',
        destinationPort: port,
      }),
    ]);
    const latencyNs = recorded[0]?.latencyNs ?? 0n;
    expect(latencyNs).toBeGreaterThan(0n);
    expect(latencyNs).toBeLessThan(1_000_000_000n);
  });

  it('records an IPv6 connection with its addresses', async () => {
    const { port, sourcePort, recorded } = await connectOnce('::1');
    expect(recorded).toEqual([
      expect.objectContaining({
        family: 'ipv6',
        source: '::1',
        sourcePort,
        destination: '::1',
        destinationPort: port,
      }),
    ]);
  });
});
