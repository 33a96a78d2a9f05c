import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { BpfProgram } from '../program/program.ts';
import { attachReuseport } from './reuseport.ts';

requireKernel('attachReuseport', () => {
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
