import pc from 'picocolors';
import type { Io } from './io.ts';

/** An {@link Io} that records what a command writes, for tests. */
export function memoryIo(
  options: { isTTY?: boolean; columns?: number } = {},
): Io & { stdoutText(): string; stderrText(): string } {
  let out = '';
  let err = '';
  const colors = pc.createColors(false);
  const stdout = {
    isTTY: options.isTTY ?? false,
    columns: options.columns ?? 100,
    write(chunk: string | Uint8Array) {
      out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    color: colors,
    errColor: colors,
    isTTY: options.isTTY ?? false,
    columns: options.columns ?? 100,
    stdout,
    stdoutText: () => out,
    stderrText: () => err,
  };
}

/** Runs the `ebpf` command line on `argv` in memory: its exit code and what it printed. */
export async function runMain(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('./main.ts');
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}
