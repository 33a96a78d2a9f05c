/**
 * Prints every outgoing TCP connection of this machine with its connect latency, until Ctrl-C.
 * Run as root after `pnpm build`: `sudo node dist/main.js`.
 */
import { ConnectLatency } from './connect-latency.ts';

const latency = new ConnectLatency();
process.once('SIGINT', () => latency.close());
process.once('SIGTERM', () => latency.close());

const row = (...cells: string[]) => cells.map((c, i) => c.padEnd([8, 16, 40, 40][i] ?? 0)).join(' ');
console.log(row('PID', 'COMM', 'SOURCE', 'DESTINATION', 'LATENCY (ms)'));
for await (const c of latency) {
  const endpoint = (address: string, port: number) =>
    c.family === 'ipv6' ? `[${address}]:${port}` : `${address}:${port}`;
  console.log(
    row(
      String(c.pid),
      c.comm,
      endpoint(c.source, c.sourcePort),
      endpoint(c.destination, c.destinationPort),
      (Number(c.latencyNs) / 1e6).toFixed(3),
    ),
  );
}
