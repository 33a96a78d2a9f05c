import { createSocket, type Socket } from 'node:dgram';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { exit, jeq, label, ldAbs, mov64, R0, R1, R6 } from '@ebpf/asm';
import { requireKernel } from '@ebpf/test-utils';
import { InsnSize } from '@ebpf/uapi';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { BpfProgram } from '../program/program.ts';
import { attachSocket, detachSocket, socketFd } from './socket.ts';

/** Keeps datagrams whose first payload byte is 'A' (a UDP socket's filter sees the UDP header first: payload at 8), drops the rest. */
const keepA = () => [
  mov64(R6, R1), // ld_abs reads the packet through r6
  ldAbs(InsnSize.B, 8),
  jeq(R0, 0x41, 'keep'),
  mov64(R0, 0),
  exit(),
  label('keep'),
  mov64(R0, 0xffff),
  exit(),
];

requireKernel('attachSocket', () => {
  let receiver: Socket;
  let sender: Socket;
  let port: number;
  let received: string[];

  beforeEach(async () => {
    received = [];
    receiver = createSocket('udp4');
    receiver.on('message', (message) => received.push(message.toString()));
    await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
    port = receiver.address().port;
    sender = createSocket('udp4');
  });

  afterEach(() => {
    receiver.close();
    sender.close();
  });

  async function send(...messages: string[]): Promise<void> {
    for (const message of messages) {
      await new Promise<void>((resolve, reject) =>
        sender.send(message, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  it('filters the datagrams a dgram socket receives, until detached', async () => {
    using prog = BpfProgram.load({ type: 'socket_filter', instructions: keepA(), license: 'GPL' });
    const attachment = attachSocket(prog, receiver);
    expect(attachment.socketFd).toBe(socketFd(receiver));
    await send('A1', 'B1', 'A2', 'C1');
    expect(received).toEqual(['A1', 'A2']);
    attachment.detach();
    attachment.detach();
    await send('B2');
    expect(received).toEqual(['A1', 'A2', 'B2']);
  });

  it('keeps filtering after the program object is closed; detachSocket removes it', async () => {
    const prog = BpfProgram.load({ type: 'socket_filter', instructions: keepA(), license: 'GPL' });
    attachSocket(prog, socketFd(receiver));
    prog.close();
    await send('B1', 'A1');
    expect(received).toEqual(['A1']);
    expect(detachSocket(receiver)).toBe(true);
    expect(detachSocket(receiver)).toBe(false);
    await send('B2');
    expect(received).toEqual(['A1', 'B2']);
  });

  it('drops everything with a filter returning 0', async () => {
    using prog = BpfProgram.load({
      type: 'socket_filter',
      instructions: [mov64(R0, 0), exit()],
      license: 'GPL',
    });
    using _attached = attachSocket(prog, { fd: socketFd(receiver) });
    await send('A1', 'B1');
    expect(received).toEqual([]);
  });

  it('attaches to a listening net server', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      using prog = BpfProgram.load({
        type: 'socket_filter',
        instructions: [mov64(R0, 0xffff), exit()],
        license: 'GPL',
      });
      using attachment = attachSocket(prog, server);
      expect(attachment.socketFd).toBeGreaterThan(2);
    } finally {
      server.close();
    }
  });

  it('checks its arguments', () => {
    using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    expect(() => attachSocket(xdp, receiver)).toThrow(/needs a socket_filter program/);
    using prog = BpfProgram.load({ type: 'socket_filter', instructions: keepA(), license: 'GPL' });
    const unbound = createSocket('udp4');
    expect(() => attachSocket(prog, unbound)).toThrow(/bind a dgram socket/);
    unbound.close();
    expect(() => attachSocket(prog, -1)).toThrow(InvalidArgumentError);
    const file = openSync('/dev/null', 'r');
    try {
      expect(() => attachSocket(prog, file)).toThrow(/not a socket/);
      expect(() => attachSocket(prog, file)).toThrow(InvalidArgumentError);
    } finally {
      closeSync(file);
    }
  });
});
