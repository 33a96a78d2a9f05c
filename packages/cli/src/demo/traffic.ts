import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';

/** What the demo's own traffic generator sent, by protocol. */
export interface SentCounts {
  /** UDP datagrams sent (IPv4 and IPv6 loopback). */
  udp: number;
  /** TCP connections made (each carries a handshake, some data and a close). */
  tcpConnections: number;
  /** ICMP echo requests sent by `ping` (IPv4). */
  icmp: number;
  /** ICMPv6 echo requests sent by `ping -6`. */
  icmp6: number;
}

/** Options of {@link startTraffic}. */
export interface TrafficOptions {
  /** Bursts to send, one a second (the generator stops by itself after this many). Default 10. */
  readonly bursts?: number;
  /** UDP datagrams per burst and address family. Default 20. */
  readonly udpPerBurst?: number;
  /** Whether to run `ping` (when the system has it). Default true. */
  readonly ping?: boolean;
  /** Milliseconds between bursts. Default 1000. */
  readonly intervalMs?: number;
}

/** A running traffic generator. */
export interface Traffic {
  /** Counts sent so far (grows until the generator stops). */
  readonly sent: Readonly<SentCounts>;
  /** Resolves when the last burst has been sent and its replies are in. */
  readonly done: Promise<void>;
  /** Stops sending and closes every socket, server and child process. Idempotent. */
  stop(): Promise<void>;
}

const delay = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Sends a short, bounded stream of loopback traffic so counters move on an idle machine: per
 * burst, UDP datagrams to 127.0.0.1 and ::1, one TCP connection to a local server carrying 4 KiB,
 * and one ICMP and ICMPv6 echo via `ping` when it is installed. Everything it opens is closed by
 * `stop()` (and when it finishes by itself).
 */
export function startTraffic(options: TrafficOptions = {}): Traffic {
  const bursts = options.bursts ?? 10;
  const udpPerBurst = options.udpPerBurst ?? 20;
  const intervalMs = options.intervalMs ?? 1000;
  const sent: SentCounts = { udp: 0, tcpConnections: 0, icmp: 0, icmp6: 0 };
  const abort = new AbortController();
  const closers: Array<() => Promise<void> | void> = [];
  const children = new Set<ReturnType<typeof spawn>>();

  const payload = Buffer.alloc(256, 0x61);
  const tcpPayload = Buffer.alloc(4096, 0x62);

  async function openUdp(type: 'udp4' | 'udp6', address: string) {
    const receiver = dgram.createSocket(type);
    receiver.on('message', () => {});
    receiver.on('error', () => {});
    const sender = dgram.createSocket(type);
    sender.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        receiver.once('error', reject);
        receiver.bind(0, address, () => resolve());
      });
    } catch {
      // No such address family on this machine (IPv6 disabled): skip it.
      receiver.close();
      sender.close();
      return undefined;
    }
    closers.push(() => {
      receiver.close();
      sender.close();
    });
    return { sender, port: receiver.address().port, address };
  }

  async function openTcpServer() {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    );
    return (server.address() as net.AddressInfo).port;
  }

  function tcpExchange(port: number): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' }, () => {
        sent.tcpConnections++;
        socket.end(tcpPayload);
      });
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.setTimeout(2000, () => socket.destroy());
    });
  }

  function ping(args: string[], key: 'icmp' | 'icmp6'): Promise<void> {
    return new Promise((resolve) => {
      if (abort.signal.aborted) return resolve();
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn('ping', ['-c', '1', '-W', '1', ...args], { stdio: 'ignore' });
      } catch {
        return resolve();
      }
      children.add(child);
      child.on('error', () => {
        children.delete(child);
        resolve();
      });
      child.on('exit', (code) => {
        children.delete(child);
        if (code === 0) sent[key]++;
        resolve();
      });
    });
  }

  const done = (async () => {
    const udp = (await Promise.all([openUdp('udp4', '127.0.0.1'), openUdp('udp6', '::1')])).filter(
      (u) => u !== undefined,
    );
    const tcpPort = await openTcpServer();
    for (let burst = 0; burst < bursts && !abort.signal.aborted; burst++) {
      const work: Promise<void>[] = [];
      for (const u of udp) {
        for (let i = 0; i < udpPerBurst; i++) {
          work.push(
            new Promise((resolve) =>
              u.sender.send(payload, u.port, u.address, (error) => {
                if (!error) sent.udp++;
                resolve();
              }),
            ),
          );
        }
      }
      work.push(tcpExchange(tcpPort));
      if (options.ping !== false) {
        work.push(ping(['127.0.0.1'], 'icmp'));
        work.push(ping(['-6', '::1'], 'icmp6'));
      }
      await Promise.all(work);
      await delay(intervalMs, abort.signal);
    }
  })().finally(async () => {
    await closeAll();
  });

  let closing: Promise<void> | undefined;
  function closeAll(): Promise<void> {
    closing ??= (async () => {
      for (const child of children) child.kill('SIGTERM');
      for (const close of closers.splice(0)) await close();
    })();
    return closing;
  }

  return {
    sent,
    done,
    async stop() {
      abort.abort();
      await done.catch(() => {});
      await closeAll();
    },
  };
}
