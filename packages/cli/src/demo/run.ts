import { existsSync, readdirSync } from 'node:fs';
import { createLogUpdate } from 'log-update';
import { CliError, ExitCode } from '../exit-codes.ts';
import { type Io, printJson } from '../io.ts';
import { PacketCounter } from './counter.ts';
import { type Counters, zeroCounters } from './slots.ts';
import { type SentCounts, startTraffic, type Traffic } from './traffic.ts';
import { renderView, rows } from './view.ts';

/** Options of {@link runXdpDemo}. */
export interface XdpDemoOptions {
  /** Interface to attach to. Default `lo`. */
  readonly iface: string;
  /** Seconds to run; until a signal when undefined. */
  readonly duration: number | undefined;
  /** Print the final counts as JSON instead of the live table. */
  readonly json: boolean;
  /** Send the demo's own loopback traffic. Default true. */
  readonly traffic: boolean;
}

/** What `ebpf demo xdp --json` prints. */
export interface XdpDemoReport {
  iface: string;
  mode: 'generic';
  seconds: number;
  progId: number;
  linkId: number;
  counters: Counters;
  sent: SentCounts;
  stoppedBy: 'duration' | 'SIGINT' | 'SIGTERM' | 'SIGHUP';
}

const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function checkInterface(iface: string): void {
  if (!/^[^/\s]{1,15}$/.test(iface) || !existsSync(`/sys/class/net/${iface}`)) {
    let known = '';
    try {
      known = ` (interfaces here: ${readdirSync('/sys/class/net').join(', ')})`;
    } catch {
      // No sysfs: say nothing more.
    }
    throw new CliError(`no network interface named '${iface}'${known}`, ExitCode.NotFound);
  }
}

/**
 * The main job: loads the protocol counter, attaches it to `iface` in generic (SKB) mode, sends
 * its own loopback traffic, and shows live counts each second until `duration` or a signal.
 * Whatever happens (end, error, SIGINT, SIGTERM, SIGHUP), the link is closed before it returns,
 * which detaches the program: the interface is left as it was. Nothing is pinned, so nothing
 * survives the process even if it is killed with SIGKILL (the kernel closes its fds).
 */
export async function runXdpDemo(options: XdpDemoOptions, io: Io): Promise<void> {
  checkInterface(options.iface);
  const stop = new AbortController();
  let stoppedBy: XdpDemoReport['stoppedBy'] = 'duration';
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) return; // a second Ctrl-C while cleaning up: cleanup is quick, let it finish
    stoppedBy = signal as XdpDemoReport['stoppedBy'];
    stop.abort();
  };
  for (const s of signals) process.on(s, onSignal);

  // A live view needs a real terminal (some report 0 rows, e.g. under `script`): else print once at the end.
  const live =
    !options.json && io.isTTY && (io.stdout.rows ?? 24) > 0
      ? createLogUpdate(io.stdout, { showCursor: false })
      : undefined;
  let counter: PacketCounter | undefined;
  let traffic: Traffic | undefined;
  try {
    counter = PacketCounter.load();
    let link: ReturnType<PacketCounter['attach']>;
    try {
      link = counter.attach(options.iface, 'generic');
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'EBUSY' && code !== 'EEXIST') throw error;
      throw new CliError((error as Error).message, ExitCode.Failure, [
        `find it with \`ebpf link list\` (XDP links) or \`ip link show ${options.iface}\` (programs attached by netlink)`,
      ]);
    }
    const progId = counter.program.id;
    const linkId = link.id;
    if (options.traffic) {
      const bursts =
        options.duration === undefined ? 10 : Math.max(1, Math.min(10, Math.floor(options.duration)));
      traffic = startTraffic({ bursts });
    }
    const started = performance.now();
    let before: Counters = counter.read();
    let beforeAt = started;
    const header = (elapsed: number) => ({
      iface: options.iface,
      mode: 'generic',
      progId,
      linkId,
      elapsed,
      duration: options.duration,
    });
    const draw = (now: Counters, at: number) => {
      if (!live) return;
      const table = rows(now, before, (at - beforeAt) / 1000);
      live(renderView(header((at - started) / 1000), table, io.color, io.columns));
    };
    draw(before, started);
    const deadline =
      options.duration === undefined ? Number.POSITIVE_INFINITY : started + options.duration * 1000;
    while (!stop.signal.aborted) {
      const wait = Math.min(1000, deadline - performance.now());
      if (wait <= 0) break;
      await sleep(wait, stop.signal);
      const at = performance.now();
      const now = counter.read();
      draw(now, at);
      before = now;
      beforeAt = at;
    }
    await traffic?.stop();
    const final = counter.read();
    const seconds = (performance.now() - started) / 1000;
    counter.close();
    if (live) {
      live(
        renderView(
          { ...header(seconds), done: true },
          rows(final, zeroCounters(), seconds),
          io.color,
          io.columns,
        ),
      );
      live.done();
    }
    const report: XdpDemoReport = {
      iface: options.iface,
      mode: 'generic',
      seconds: Math.round(seconds * 1000) / 1000,
      progId,
      linkId,
      counters: final,
      sent: { ...(traffic?.sent ?? { udp: 0, tcpConnections: 0, icmp: 0, icmp6: 0 }) },
      stoppedBy,
    };
    if (options.json) printJson(io, report);
    else if (!live)
      io.out(
        renderView(
          { ...header(seconds), done: true },
          rows(final, zeroCounters(), seconds),
          io.color,
          io.columns,
        ),
      );
  } finally {
    // Runs on every way out: error, end, signal. Each step is idempotent.
    await traffic?.stop().catch(() => {});
    try {
      counter?.close();
    } finally {
      live?.done();
      for (const s of signals) process.off(s, onSignal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
