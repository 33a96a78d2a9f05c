import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAsmCommands } from './commands/asm.ts';
import { registerBtfCommands } from './commands/btf.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerFeatureCommand } from './commands/feature.ts';
import { registerGenCommands } from './commands/gen.ts';
import { registerLinkCommands } from './commands/link.ts';
import { registerMapCommands } from './commands/map.ts';
import { registerObjectCommands } from './commands/object.ts';
import { registerProgCommands } from './commands/prog.ts';
import { registerRunCommand } from './commands/run.ts';
import { describeError, errorJson } from './errors.ts';
import { ExitCode } from './exit-codes.ts';
import { type Io, printJson, processIo } from './io.ts';

/** This package's version: `package.json` is one folder up from `src/` and from `dist/` alike. */
const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const exitCodeHelp = `
Exit codes:
  0   success
  1   failure (a system call or file operation failed)
  2   usage error (unknown command or option, bad argument)
  3   no such program, map, link, BTF object or type, or input file
  4   rejected: the verifier refused the program, or the source does not assemble
  69  not supported by the running kernel
  77  permission denied (run as root, or grant CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN)`;

/**
 * Builds the `ebpf` command tree, writing through `io`; with `json`, usage errors are printed as
 * JSON too (a script that asked for JSON gets it, on standard output).
 */
export function createProgram(io: Io, json = false): Command {
  const program = new Command('ebpf')
    .description('Inspect, assemble, run and attach eBPF programs, written in TypeScript')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', exitCodeHelp)
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) =>
        json ? printJson(io, { error: usageErrorJson(s) }) : write(io.errColor.red(s)),
    });
  // Every sub-command inherits these through copyInheritedSettings.
  program.exitOverride().configureHelp({ sortSubcommands: false, showGlobalOptions: false });
  registerProgCommands(program, io);
  registerMapCommands(program, io);
  registerLinkCommands(program, io);
  registerAsmCommands(program, io);
  registerRunCommand(program, io);
  registerBtfCommands(program, io);
  registerGenCommands(program, io);
  registerObjectCommands(program, io);
  registerFeatureCommand(program, io);
  registerDemoCommand(program, io);
  return program;
}

/**
 * Runs the `ebpf` command with `argv` (without node and the script path) and resolves to its
 * exit code; it never calls `process.exit` itself.
 *
 * @example
 * ```ts
 * import { main } from '@ebpf/cli';
 *
 * process.exitCode = await main(['prog', 'list', '--json']);
 * ```
 */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const json = wantsJson(argv);
  const program = createProgram(io, json);
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
    if (json) {
      printJson(io, { error: errorJson(error, exitCode, details) });
      return exitCode;
    }
    io.err(`${io.errColor.red('error:')} ${message}\n`);
    for (const line of details) io.err(`${line}\n`);
    if (process.env.EBPF_DEBUG && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
    return exitCode;
  }
}

/** The JSON error of a commander usage message (`error: unknown option '--bogus'`). */
function usageErrorJson(message: string) {
  return {
    name: 'UsageError',
    message: message.replace(/^error: /, '').trim(),
    exitCode: ExitCode.Usage,
    details: [],
  };
}

/** Whether the command line asks for JSON (`--json` before any `--` that ends the options). */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
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
