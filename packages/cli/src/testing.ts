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
