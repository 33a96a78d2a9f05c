/**
 * Formats a generated module with Biome, the repository's formatter, in the repository's style
 * whatever folder it is written to (the options are given, no biome.json is read).
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from '../exit-codes.ts';

/** The repository's biome.json formatter settings. */
const STYLE = [
  '--indent-style=space',
  '--indent-width=2',
  '--line-width=110',
  '--javascript-formatter-quote-style=single',
  '--semicolons=always',
  '--trailing-commas=all',
];

function biomeBin(): string {
  const manifest = createRequire(import.meta.url).resolve('@biomejs/biome/package.json');
  return join(dirname(manifest), 'bin', 'biome');
}

/** `text` formatted as a TypeScript file. */
export function formatTypeScript(text: string): string {
  const result = spawnSync(
    process.execPath,
    [biomeBin(), 'format', '--stdin-file-path=module.ts', ...STYLE],
    {
      input: text,
      cwd: tmpdir(),
      encoding: 'utf8',
      maxBuffer: 1 << 28,
    },
  );
  if (result.status !== 0)
    throw new CliError(`biome could not format the generated module: ${result.stderr || result.stdout}`);
  return result.stdout;
}
