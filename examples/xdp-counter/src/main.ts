/**
 * Counts the packets arriving at an interface (default `lo`) while sending it a few UDP
 * datagrams. Run as root: `pnpm --filter @ebpf/example-xdp-counter build && sudo node dist/main.js [iface]`.
 */
import { createSocket } from 'node:dgram';
import { PacketCounter } from './counter.ts';

const iface = process.argv[2] ?? 'lo';
using counter = new PacketCounter();
counter.attach(iface);

const socket = createSocket('udp4');
for (let i = 0; i < 10; i++) {
  await new Promise((resolve) => socket.send(`hello ${i}`, 9999, '127.0.0.1', resolve));
}
socket.close();
await new Promise((resolve) => setTimeout(resolve, 100));

const { packets, bytes } = counter.read();
console.log(`${iface}: ${packets} packets, ${bytes} bytes`);
