import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { requireKernel } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/program.ts';
import { countsMap } from './counts.fixtures.ts';
import { Link } from './index.ts';
import { socketFd } from './socket.ts';
import { attachSockmap, SockmapLink } from './sockmap.ts';

requireKernel('attachSockmap', () => {
  const counts = countsMap();

  it('runs a sk_msg verdict program on every message a socket of the map sends', async () => {
    using sockets = BpfMap.create({ type: 'sockmap', key: 'u32', value: 'u32', maxEntries: 2 });
    using prog = BpfProgram.load({
      type: 'sk_msg',
      instructions: countingProgram(1 /* SK_PASS */),
      license: 'GPL',
      maps: counts.maps,
    });
    using link = attachSockmap(prog, sockets);
    expect(link).toBeInstanceOf(SockmapLink);
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const client = createConnection(port, '127.0.0.1');
    const [peer] = (await once(server, 'connection')) as [Socket];
    await new Promise((resolve) =>
      client.connecting ? client.once('connect', resolve) : resolve(undefined),
    );
    try {
      sockets.set(0, socketFd(client));
      const before = counts.hits();
      for (const text of ['one', 'two', 'three']) {
        client.write(text);
        await once(peer, 'data');
      }
      expect(counts.hits() - before).toBeGreaterThanOrEqual(3n);
      expect(link.info()).toMatchObject({ mapId: sockets.id, attachType: 'sk_msg_verdict' });
      using again = Link.fromId(link.id);
      expect(again).toBeInstanceOf(SockmapLink);
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });

  it('checks the program and the hook', () => {
    using sockets = BpfMap.create({ type: 'sockmap', key: 'u32', value: 'u32', maxEntries: 2 });
    using skb = BpfProgram.load({
      type: 'sk_skb',
      instructions: countingProgram(1),
      license: 'GPL',
      maps: counts.maps,
    });
    expect(() => attachSockmap(skb, sockets, 'sk_msg_verdict')).toThrow(
      /attaches at sk_skb_verdict or sk_skb_stream_verdict or sk_skb_stream_parser/,
    );
    using link = attachSockmap(skb, sockets, 'sk_skb_stream_parser');
    expect(link.attachType).toBe(4);
    using xdp = BpfProgram.load({
      type: 'xdp',
      instructions: countingProgram(2),
      license: 'GPL',
      maps: counts.maps,
    });
    expect(() => attachSockmap(xdp, sockets)).toThrow(InvalidArgumentError);
  });
});
