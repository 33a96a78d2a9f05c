/** Reading the IR and writing outputs so that a failed run leaves no partial output. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { IR_FILES, Ir } from './ir.ts';

/** Reads the committed IR from `dir`. */
export function readIr(dir: string): Ir {
  const part = (k: (typeof IR_FILES)[number]): unknown => {
    const p = join(dir, `${k}.json`);
    if (!existsSync(p))
      throw new Error(`IR file missing: ${p} (run pnpm codegen with a header and BTF first)`);
    return JSON.parse(readFileSync(p, 'utf8'));
  };
  return {
    source: part('source'),
    constants: part('constants'),
    enums: part('enums'),
    aggregates: part('aggregates'),
    helpers: part('helpers'),
    errno: part('errno'),
  } as Ir;
}

/**
 * Writes `files` into `dir`: all are first written to a temporary directory beside it, then
 * renamed into place; files in `dir` matching `owned` that are not in `files` are removed.
 * Unchanged files are not touched. Returns the names that changed.
 */
export function writeFilesAtomically(
  dir: string,
  files: ReadonlyMap<string, string>,
  owned: RegExp,
): string[] {
  mkdirSync(dir, { recursive: true });
  const changed = [...files].filter(([name, text]) => {
    const p = join(dir, name);
    return !existsSync(p) || readFileSync(p, 'utf8') !== text;
  });
  const stale = readdirSync(dir).filter((n) => owned.test(n) && !files.has(n));
  if (changed.length === 0 && stale.length === 0) return [];
  const tmp = mkdtempSync(join(dirname(dir), '.codegen-'));
  try {
    for (const [name, text] of changed) writeFileSync(join(tmp, name), text);
    for (const [name] of changed) renameSync(join(tmp, name), join(dir, name));
    for (const name of stale) rmSync(join(dir, name));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return [...changed.map(([n]) => n), ...stale.map((n) => `-${n}`)];
}
