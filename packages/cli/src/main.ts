import { Command, CommanderError } from 'commander';
import { registerAsmCommands } from './commands/asm.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerFeatureCommand } from './commands/feature.ts';
import { registerLinkCommands } from './commands/link.ts';
import { registerMapCommands } from './commands/map.ts';
import { registerProgCommands } from './commands/prog.ts';
import { registerRunCommand } from './commands/run.ts';
import { describeError } from './errors.ts';
import { ExitCode } from './exit-codes.ts';
import { type Io, processIo } from './io.ts';

const version = '0.1.0';

const exitCodeHelp = `
Exit codes:
  0   success
  1   failure (a system call or file operation failed)
  2   usage error (unknown command or option, bad argument)
  3   no such program, map or link
  4   rejected: the verifier refused the program, or the source does not assemble
  69  not supported by the running kernel
  77  permission denied (run as root, or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)`;

/** Builds the `ebpf` command tree, writing through `io`. */
export function createProgram(io: Io): Command {
  const program = new Command('ebpf')
    .description('Inspect, assemble, run and attach eBPF programs, written in TypeScript')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', exitCodeHelp)
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(io.errColor.red(s)),
    });
  // Every sub-command inherits these through copyInheritedSettings.
  program.exitOverride().configureHelp({ sortSubcommands: false, showGlobalOptions: false });
  registerProgCommands(program, io);
  registerMapCommands(program, io);
  registerLinkCommands(program, io);
  registerAsmCommands(program, io);
  registerRunCommand(program, io);
  registerFeatureCommand(program, io);
  registerDemoCommand(program, io);
  return program;
}

/**
 * Runs the `ebpf` command with `argv` (without node and the script path) and resolves to its
 * exit code; it never calls `process.exit` itself.
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(withoutMeaninglessDashDash(program, argv), { from: 'user' });
    return ExitCode.Ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" only to commander; the message is already printed.
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Ok;
      // `ebpf help` asked for it (0); `ebpf prog` without a sub-command is a usage error.
      if (error.code === 'commander.help') return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
      if (error.code === 'commander.executeSubCommandAsync') return error.exitCode;
      return ExitCode.Usage;
    }
    const { exitCode, message, details } = describeError(error);
    io.err(`${io.errColor.red('error:')} ${message}\n`);
    for (const line of details) io.err(`${line}\n`);
    if (process.env.EBPF_DEBUG && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
    return exitCode;
  }
}

/**
 * `pnpm start -- --duration 3` passes the `--` on (npm drops it): for a command that takes no
 * operands a `--` means nothing, so it is dropped and the options after it are parsed as such.
 * Commands with operands keep it (`ebpf asm -- -odd-name.s`).
 */
export function withoutMeaninglessDashDash(program: Command, argv: readonly string[]): string[] {
  let command = program;
  for (const word of argv) {
    if (word.startsWith('-')) break;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub === undefined) break;
    command = sub;
  }
  if (command === program || command.commands.length > 0 || command.registeredArguments.length > 0)
    return [...argv];
  return argv.filter((word) => word !== '--');
}
