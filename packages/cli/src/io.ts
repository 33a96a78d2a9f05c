import pc from 'picocolors';

/** The colour functions the command uses (a subset of picocolors). */
export type Colors = Pick<
  ReturnType<typeof pc.createColors>,
  'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan' | 'magenta' | 'blue' | 'gray' | 'inverse'
>;

/** Where a command writes, and how: colour only on a TTY and never with `NO_COLOR` set. */
export interface Io {
  /** Writes to standard output (no newline added). */
  out(text: string): void;
  /** Writes to standard error (no newline added). */
  err(text: string): void;
  /** Colours for standard output. */
  readonly color: Colors;
  /** Colours for standard error. */
  readonly errColor: Colors;
  /** Whether standard output is a terminal. */
  readonly isTTY: boolean;
  /** Terminal width, or 100 when standard output is not a terminal. */
  readonly columns: number;
  /** The output stream itself, for live views. */
  readonly stdout: NodeJS.WriteStream;
}

/** Whether colour is wanted on `stream`: a TTY, `NO_COLOR` unset (FORCE_COLOR forces it on). */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** The process's own standard streams. */
export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: pc.createColors(wantsColor(process.stdout)),
    errColor: pc.createColors(wantsColor(process.stderr)),
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.isTTY ? process.stdout.columns || 100 : 100,
    stdout: process.stdout,
  };
}

/** Prints `value` as indented JSON, bigints as numbers when exact and strings otherwise. */
export function printJson(io: Io, value: unknown): void {
  io.out(`${toJson(value)}\n`);
}

/** `JSON.stringify` that accepts bigints and typed arrays (as hex strings). */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint')
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v.toString();
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
      return v;
    },
    2,
  );
}
