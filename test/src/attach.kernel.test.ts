import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { exit, mov64, R0 } from '@ebpf/asm';
import { attachSocket, attachXdp, BpfMap, BpfProgram } from '@ebpf/core';
import { requireKernel, thrown, VethNamespace } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const XDP_PASS = 2;

/** A socket filter that keeps every packet and counts it in `counts[0]`. */
const countingFilter = (counts: BpfMap<number, bigint>) =>
  BpfProgram.load({
    type: 'socket_filter',
    license: 'GPL',
    instructions: countingProgram(0xffff),
    maps: { counts },
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Datagrams `socket` receives within `ms` after `send` ran. */
async function received(socket: DgramSocket, send: () => Promise<void>, ms = 150): Promise<number> {
  let n = 0;
  const onMessage = () => n++;
  socket.on('message', onMessage);
  await send();
  await sleep(ms);
  socket.off('message', onMessage);
  return n;
}

requireKernel('attachSocket and attachXdp, as a user of @ebpf/core sees them', () => {
  describe('attachSocket', () => {
    let server: DgramSocket;
    let client: DgramSocket;
    const sendFive = async () => {
      const { port } = server.address();
      for (let i = 0; i < 5; i++) {
        await new Promise<void>((resolve, reject) =>
          client.send(`message ${i}`, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
        );
      }
    };

    beforeAll(async () => {
      server = createSocket('udp4');
      await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
      client = createSocket('udp4');
    });
    afterAll(() => {
      server.close();
      client.close();
    });

    it('filters a dgram socket, and detach() removes the filter', async () => {
      using dropAll = BpfProgram.load({
        type: 'socket_filter',
        license: 'GPL',
        instructions: [mov64(R0, 0), exit()],
      });
      expect(await received(server, sendFive)).toBe(5);
      const attachment = attachSocket(dropAll, server);
      expect(await received(server, sendFive)).toBe(0);
      attachment.detach();
      attachment.detach(); // twice is fine
      expect(await received(server, sendFive)).toBe(5);
    });

    it('the program sees every datagram, and using detaches', async () => {
      using counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      using prog = countingFilter(counts);
      {
        using _attached = attachSocket(prog, server);
        expect(await received(server, sendFive)).toBe(5);
        expect(counts.get(0)).toBe(5n);
      }
      await received(server, sendFive);
      expect(counts.get(0)).toBe(5n);
    });

    it('filters net sockets and raw fds', async () => {
      using counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      using prog = countingFilter(counts);
      const tcp = createServer((peer) => peer.end('hello from the server'));
      await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
      const port = (tcp.address() as { port: number }).port;
      try {
        const connect = async (): Promise<Socket> => {
          const socket = createConnection(port, '127.0.0.1');
          await new Promise((resolve) => socket.once('connect', resolve));
          return socket;
        };
        const drain = (socket: Socket) =>
          new Promise<string>((resolve) => {
            let text = '';
            socket.on('data', (chunk) => {
              text += chunk;
            });
            socket.on('end', () => resolve(text));
          });

        const socket = await connect();
        const attachment = attachSocket(prog, socket);
        expect(await drain(socket)).toBe('hello from the server');
        expect(counts.get(0)).toBeGreaterThan(0n);
        attachment.detach();
        socket.destroy();

        counts.set(0, 0n);
        const raw = await connect();
        const fd = (raw as unknown as { _handle: { fd: number } })._handle.fd;
        const byFd = attachSocket(prog, fd);
        expect(byFd.socketFd).toBe(fd);
        expect(await drain(raw)).toBe('hello from the server');
        expect(counts.get(0)).toBeGreaterThan(0n);
        byFd.detach();
        raw.destroy();
      } finally {
        tcp.close();
      }
    });

    it('bad input is a typed error', () => {
      using xdp = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      expect(thrown(() => attachSocket(xdp, server)).name).toBe('InvalidArgumentError');
      using filter = BpfProgram.load({
        type: 'socket_filter',
        license: 'GPL',
        instructions: [mov64(R0, 0), exit()],
      });
      const unbound = createSocket('udp4');
      try {
        expect(thrown(() => attachSocket(filter, unbound)).message).toMatch(/bind/);
      } finally {
        unbound.close();
      }
      expect(thrown(() => attachSocket(filter, -1)).name).toBe('InvalidArgumentError');
      expect(thrown(() => attachSocket(filter, 'eth0' as never)).name).toBe('InvalidArgumentError');
      expect(thrown(() => attachSocket(filter, 0x7fff_fff0)).name).not.toBe('TypeError');
      const file = openSync('/dev/null', 'r');
      try {
        const error = thrown(() => attachSocket(filter, file));
        expect(error.name).toBe('InvalidArgumentError');
        expect(error.message).toMatch(/not a socket/);
      } finally {
        closeSync(file);
      }
    });
  });

  describe('attachXdp on a veth pair', () => {
    let veth: VethNamespace;
    let counts: BpfMap<number, bigint>;
    let prog: BpfProgram;
    const pinDir = `/sys/fs/bpf/ebpf-e2e-xdp-${process.pid}`;

    beforeAll(() => {
      veth = new VethNamespace('x');
      counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      prog = BpfProgram.load({
        type: 'xdp',
        license: 'GPL',
        name: 'e2e_xdp',
        instructions: countingProgram(XDP_PASS),
        maps: { counts },
      });
    });
    beforeEach(() => {
      counts.set(0, 0n);
    });
    afterAll(() => {
      prog?.close();
      counts?.close();
      veth?.remove();
      rmSync(pinDir, { recursive: true, force: true });
    });

    for (const mode of ['generic', 'driver'] as const) {
      it(`counts the packets arriving, in ${mode} mode; close() detaches`, () => {
        const link = attachXdp(prog, veth.outside, { mode });
        expect(link.mode).toBe(mode);
        veth.ping(10);
        expect(counts.get(0)).toBeGreaterThanOrEqual(10n);
        link.close();
        counts.set(0, 0n);
        veth.ping(3);
        expect(counts.get(0)).toBe(0n);
      });
    }

    it('by interface index, and info() says where', () => {
      const ifindex = Number(readFileSync(`/sys/class/net/${veth.outside}/ifindex`, 'utf8'));
      using link = attachXdp(prog, ifindex, { mode: 'generic' });
      const info = link.info();
      expect(info.ifindex).toBe(ifindex);
      expect(info.progId).toBe(prog.info().id);
      expect(info.typeName).toBe('xdp');
      expect(info.id).toBeGreaterThan(0);
    });

    it('offload mode on veth is a NotSupportedError naming the feature', () => {
      const error = thrown(() => attachXdp(prog, veth.outside, { mode: 'offload' }));
      expect(error.name).toBe('NotSupportedError');
      expect(String(error.feature)).toMatch(/offload/);
      expect(String(error.feature)).toContain(veth.outside);
    });

    it('driver mode where the driver has no XDP is a NotSupportedError that says to use generic', () => {
      const ifb = `e2f${(process.pid % 100_000).toString(36)}`;
      execFileSync('ip', ['link', 'add', ifb, 'type', 'ifb']);
      try {
        const error = thrown(() => attachXdp(prog, ifb, { mode: 'driver' }));
        expect(error.name).toBe('NotSupportedError');
        expect(String(error.feature)).toContain('driver');
        expect(error.message).toContain("'generic'");
        // Without a mode: driver mode where the driver can, generic mode elsewhere.
        using fallback = attachXdp(prog, ifb);
        expect(fallback.mode).toBe('generic');
      } finally {
        execFileSync('ip', ['link', 'del', ifb]);
      }
      using native = attachXdp(prog, veth.outside);
      expect(native.mode).toBe('driver');
    });

    it('a second program in the same mode is EBUSY', () => {
      using first = attachXdp(prog, veth.outside, { mode: 'generic' });
      const error = thrown(() => attachXdp(prog, veth.outside, { mode: 'generic' }));
      expect(error.code).toBe('EBUSY');
      expect(error.message).toMatch(/detach/);
      void first;
    });

    it('update(newProg) swaps the program atomically', () => {
      using other = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      using next = BpfProgram.load({
        type: 'xdp',
        license: 'GPL',
        instructions: countingProgram(XDP_PASS),
        maps: { counts: other },
      });
      using link = attachXdp(prog, veth.outside, { mode: 'generic' });
      link.update(next);
      expect(link.info().progId).toBe(next.info().id);
      veth.ping(5);
      expect(counts.get(0)).toBe(0n);
      expect(other.get(0)).toBeGreaterThanOrEqual(5n);
    });

    it('pin() keeps it attached after close(); unpin() lets it go', () => {
      const link = attachXdp(prog, veth.outside, { mode: 'generic' });
      const path = `${pinDir}/link`;
      link.pin(path);
      link.close();
      veth.ping(5);
      expect(counts.get(0)).toBeGreaterThanOrEqual(5n);
      expect(link.unpin()).toBe(true);
      counts.set(0, 0n);
      veth.ping(3);
      expect(counts.get(0)).toBe(0n);
    });

    it('bad input is a typed error', () => {
      using filter = BpfProgram.load({
        type: 'socket_filter',
        license: 'GPL',
        instructions: [mov64(R0, 0), exit()],
      });
      expect(thrown(() => attachXdp(filter, veth.outside)).name).toBe('InvalidArgumentError');
      expect(thrown(() => attachXdp(prog, 'no-such-if0')).name).toBe('NotFoundError');
      expect(thrown(() => attachXdp(prog, veth.outside, { mode: 'fast' as never })).name).toBe(
        'InvalidArgumentError',
      );
      expect(thrown(() => attachXdp(prog, -3)).name).toBe('InvalidArgumentError');
      const closed = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      closed.close();
      expect(thrown(() => attachXdp(closed, veth.outside)).name).toBe('ClosedError');
    });
  });
});
