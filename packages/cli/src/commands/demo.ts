import { type Command, InvalidArgumentError } from 'commander';
import type { Io } from '../io.ts';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('--duration must be a positive number of seconds');
  return n;
}

/** `ebpf demo xdp`. */
export function registerDemoCommand(program: Command, io: Io): void {
  const demo = program.command('demo').description('demonstrations that run on any Linux machine');
  demo
    .command('xdp')
    .description(
      'count packets and bytes per protocol with an XDP program built in TypeScript, attached to an interface in generic mode',
    )
    .option('-i, --iface <name>', 'interface to attach to', 'lo')
    .option('-d, --duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)', seconds)
    .option('--no-traffic', 'do not send the demo’s own loopback traffic')
    .option('--json', 'print the final counts as JSON instead of the live table')
    .addHelpText(
      'after',
      `
The program is detached on exit, on error and on SIGINT/SIGTERM/SIGHUP; nothing is pinned, so
nothing outlives the process. Needs root (or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON).

Example:
  $ sudo ebpf demo xdp --duration 5`,
    )
    .action(async (opts: { iface: string; duration?: number; traffic: boolean; json?: boolean }) => {
      const { runXdpDemo } = await import('../demo/run.ts');
      await runXdpDemo(
        { iface: opts.iface, duration: opts.duration, json: opts.json === true, traffic: opts.traffic },
        io,
      );
    });
}
