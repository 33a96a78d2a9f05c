import { extname } from 'node:path';
import { disassemble, type Program } from '@ebpf/asm';
import type { Command } from 'commander';
import { usage } from '../errors.ts';
import { CliError, ExitCode } from '../exit-codes.ts';
import { hexDump, parseHex } from '../format/hex.ts';
import { formatDuration } from '../format/units.ts';
import { type Io, printJson } from '../io.ts';
import { integerOption, jsonOption } from '../options.ts';
import { assembleFileProgram, checkBytecode, looksLikeText, readInput } from './asm.ts';

/**
 * Reads a program file: assembly (`.s`, `.asm`, or any text), linked with its map references
 * kept for the loader, or bytecode (anything else).
 */
export function loadProgramFile(path: string): Program | Uint8Array {
  const raw = readInput(path);
  const ext = extname(path).toLowerCase();
  const isText = ext === '.s' || ext === '.asm' || (ext !== '.bin' && ext !== '.o' && looksLikeText(raw));
  if (isText) return assembleFileProgram(path, raw.toString('utf8'));
  return checkBytecode(path, new Uint8Array(raw));
}

/** Parses `--map name=pinned-path` options into name → path, refusing names given twice. */
export function parseMapOptions(values: readonly string[]): Record<string, string> {
  const maps: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0 || at === value.length - 1)
      usage(`--map ${value}: give name=pinned-path, like counts=/sys/fs/bpf/counts`);
    const name = value.slice(0, at);
    if (Object.hasOwn(maps, name)) usage(`--map ${name} is given twice`);
    maps[name] = value.slice(at + 1);
  }
  return maps;
}

/** Names the maps a program refers to that `--map` does not supply. */
function checkMapsGiven(program: Program | Uint8Array, maps: Record<string, string>): void {
  if (program instanceof Uint8Array) return;
  const missing = [
    ...new Set(
      program
        .references()
        .filter((r) => r.kind === 'map')
        .map((r) => r.name),
    ),
  ].filter((name) => !Object.hasOwn(maps, name));
  if (missing.length > 0) {
    usage(
      `the program refers to map${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')}, which ${missing.length > 1 ? 'are' : 'is'} missing: give each with --map ${missing[0]}=<pinned path>`,
    );
  }
}

/** Parses `--data` (or `--context`): hex text, or `@file` for the file's raw bytes. */
export function parseDataOption(text: string, option = '--data'): Uint8Array {
  if (text.startsWith('@')) return new Uint8Array(readInput(text.slice(1)));
  try {
    return parseHex(text);
  } catch (error) {
    usage(`${option}: ${(error as Error).message} (give hex bytes like 'aabbcc', or @file)`);
  }
}

/**
 * The verifier's complaint made readable: the program's listing with the instruction it stopped
 * at marked, then the end of its log.
 */
export function explainVerifierError(
  error: { log: string; instruction: number | undefined; summary: string },
  program: Program | Uint8Array,
  io: Io,
): string[] {
  const c = io.errColor;
  const lines: string[] = [];
  let listing: string[] = [];
  try {
    listing = disassemble(program).trimEnd().split('\n');
  } catch {
    // A listing is a nicety; the log below still says what went wrong.
  }
  // disassemble prints one line per instruction, lddw included, so line i is the i-th
  // instruction except after a lddw (two slots). Map slot numbers to lines.
  const slotOfLine: number[] = [];
  let slot = 0;
  for (const line of listing) {
    slotOfLine.push(slot);
    slot += /\bll\b/.test(line) ? 2 : 1;
  }
  if (listing.length > 0) {
    lines.push(c.bold('program:'));
    const at = error.instruction;
    const first = at === undefined ? 0 : Math.max(0, slotOfLine.findIndex((s) => s >= at) - 8);
    const last = at === undefined ? listing.length : Math.min(listing.length, first + 17);
    for (let i = first; i < last; i++) {
      const s = slotOfLine[i] ?? i;
      const text = `${String(s).padStart(5)}: ${listing[i]}`;
      lines.push(s === at ? c.red(c.bold(`>${text.slice(1)}   <-- ${error.summary}`)) : c.dim(text));
    }
  }
  const log = error.log.trimEnd().split('\n');
  if (log.length > 0 && log[0] !== '') {
    lines.push(c.bold(`verifier log (last ${Math.min(log.length, 20)} of ${log.length} lines):`));
    for (const l of log.slice(-20)) lines.push(`  ${l}`);
  }
  return lines;
}

interface RunCommandOptions {
  type: string;
  data?: string;
  context?: string;
  repeat: number;
  map: string[];
  json?: boolean;
}

/** `ebpf run`. */
export function registerRunCommand(program: Command, io: Io): void {
  program
    .command('run')
    .description('load a program and test-run it on the given packet (BPF_PROG_TEST_RUN)')
    .argument('<file>', 'assembly (.s) or bytecode (.bin)')
    .option('-t, --type <type>', 'program type (xdp, socket_filter, sched_cls, ...)', 'xdp')
    .option('-d, --data <hex|@file>', 'input packet as hex bytes, or @file for a binary file')
    .option('-c, --context <hex|@file>', 'input context (struct __sk_buff, raw tracepoint args, ...)')
    .option('-r, --repeat <n>', 'run n times and report the mean duration', integerOption('--repeat', 1), 1)
    .option(
      '-m, --map <name=path>',
      'a pinned map for a map the program names (r1 = counts ll); repeatable',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .addOption(jsonOption())
    .addHelpText(
      'after',
      `
Example:
  $ printf 'r0 = 2\\nexit\\n' > pass.s
  $ ebpf run pass.s --type xdp --data 000000000000000000000000080045
  $ ebpf run count.s --map counts=/sys/fs/bpf/counts --data 00000000000000000000000008004500`,
    )
    .action(async (file: string, opts: RunCommandOptions) => {
      const bytes = loadProgramFile(file);
      const maps = parseMapOptions(opts.map);
      checkMapsGiven(bytes, maps);
      const data = opts.data === undefined ? undefined : parseDataOption(opts.data);
      const context = opts.context === undefined ? undefined : parseDataOption(opts.context, '--context');
      const kernel = await import('../kernel.ts');
      let result: Awaited<ReturnType<typeof kernel.testRun>>;
      try {
        result = kernel.testRun(bytes, opts.type, { data, context, repeat: opts.repeat, maps });
      } catch (error) {
        // What the user gave (the type, the file's instructions) was refused before the kernel saw it.
        if (error instanceof Error && error.name === 'InvalidArgumentError')
          throw new CliError(error.message, ExitCode.Usage);
        if (error instanceof Error && error.name === 'VerifierError') {
          const v = error as Error & { log: string; instruction: number | undefined; summary: string };
          if (opts.json) {
            printJson(io, { error: 'verifier', message: v.message, instruction: v.instruction, log: v.log });
          }
          throw new CliError(
            v.message,
            ExitCode.Rejected,
            opts.json ? [] : explainVerifierError(v, bytes, io),
          );
        }
        throw error;
      }
      if (opts.json) {
        return printJson(io, {
          retval: result.retval,
          action: result.action,
          durationNs: result.durationNs,
          repeat: opts.repeat,
          dataOut: result.data,
          ...(result.context && { contextOut: result.context }),
        });
      }
      const c = io.color;
      io.out(
        `${c.bold('retval:')}   ${result.retval}${result.action ? ` (${c.cyan(result.action)})` : ''}\n` +
          `${c.bold('duration:')} ${formatDuration(result.durationNs)}${opts.repeat > 1 ? ` per run (mean of ${opts.repeat})` : ''}\n`,
      );
      if (result.data && result.data.length > 0) {
        io.out(`${c.bold(`data out (${result.data.length} bytes):`)}\n${hexDump(result.data)}`);
      }
      if (result.context && result.context.length > 0) {
        io.out(`${c.bold(`context out (${result.context.length} bytes):`)}\n${hexDump(result.context)}`);
      }
    });
}
