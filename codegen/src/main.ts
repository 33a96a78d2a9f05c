/**
 * `pnpm codegen`: extract (header + BTF → codegen/ir/*.json), then emit
 * (IR → packages/uapi/src/generated/*.generated.ts and packages/sys/src/generated/*.generated.h).
 * `--emit-only` skips extraction.
 *
 *   tsx src/main.ts [--header PATH] [--btf PATH|none] [--emit-only] [--ir DIR] [--out DIR]
 */
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { emit, formatWithBiome, REPO_ROOT } from './emit.ts';
import { emitNative } from './emit-native.ts';
import { extract, readBtf, readHeaders } from './extract.ts';
import { readIr, writeFilesAtomically } from './files.ts';
import { IR_FILES, type Ir, serializeIr } from './ir.ts';

/** Defaults: the machine's header (Debian linux-libc-dev) and the running kernel's BTF. */
export const DEFAULT_HEADER = '/usr/include/linux/bpf.h';
export const DEFAULT_BTF = '/sys/kernel/btf/vmlinux';
export const DEFAULT_IR_DIR = join(REPO_ROOT, 'codegen/ir');
export const DEFAULT_OUT_DIR = join(REPO_ROOT, 'packages/uapi/src/generated');
/** Where the native rule tables of @ebpf/sys go. */
export const NATIVE_OUT_DIR = join(REPO_ROOT, 'packages/sys/src/generated');

/** `major.minor` of the running kernel (`6.18`). */
export function runningKernel(): string {
  return release().split('.').slice(0, 2).join('.');
}

/** The IR files as `pnpm codegen` writes them (JSON formatted by Biome): name → contents. */
export function renderIr(ir: Ir): Map<string, string> {
  return new Map(
    IR_FILES.map((k) => [
      `${k}.json`,
      formatWithBiome(serializeIr(ir[k]), REPO_ROOT, `codegen/ir/${k}.json`),
    ]),
  );
}

/** The command line, for usage errors. */
export const USAGE =
  'usage: pnpm codegen [--header PATH/linux/bpf.h] [--btf PATH|none] [--emit-only] [--ir DIR] [--out DIR] [--native-out DIR|none]';

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      header: { type: 'string', default: DEFAULT_HEADER },
      btf: { type: 'string', default: DEFAULT_BTF },
      'emit-only': { type: 'boolean', default: false },
      ir: { type: 'string', default: DEFAULT_IR_DIR },
      out: { type: 'string', default: DEFAULT_OUT_DIR },
      // `none` for the TypeScript side alone (a partial header cannot describe every bpf command).
      'native-out': { type: 'string', default: NATIVE_OUT_DIR },
    },
  });
}

/** Runs the generator; returns the process exit code (2 for a usage error). */
export function main(argv: string[]): number {
  let values: ReturnType<typeof parseOptions>['values'];
  try {
    ({ values } = parseOptions(argv));
  } catch (e) {
    console.error(`codegen: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  // pnpm runs scripts inside codegen/; relative paths mean what they meant where the user typed them.
  const fromCaller = (path: string): string => resolve(process.env.INIT_CWD ?? process.cwd(), path);
  const header = fromCaller(values.header);
  const btfPath = values.btf === 'none' ? undefined : fromCaller(values.btf);
  const irDir = fromCaller(values.ir);
  const outDir = fromCaller(values.out);
  const nativeDir = values['native-out'] === 'none' ? undefined : fromCaller(values['native-out']);
  try {
    let ir: Ir;
    if (values['emit-only']) {
      ir = readIr(irDir);
    } else {
      const btf = btfPath === undefined ? undefined : readBtf(btfPath);
      ir = extract(readHeaders(header), btf, btfPath === DEFAULT_BTF ? runningKernel() : undefined);
    }
    const files = emit(ir, { warn: (m) => console.warn(`codegen: warning: ${m}`) });
    const native = nativeDir === undefined ? undefined : emitNative(ir);
    const irFiles = renderIr(ir);
    // Everything is computed before anything is written; then each directory is swapped in.
    const changed = [
      ...(values['emit-only'] ? [] : writeFilesAtomically(irDir, irFiles, /\.json$/)),
      ...writeFilesAtomically(outDir, files, /\.generated\.ts$/),
      ...(nativeDir === undefined || native === undefined
        ? []
        : writeFilesAtomically(nativeDir, native, /\.generated\.h$/)),
    ];
    console.log(changed.length ? `codegen: updated ${changed.join(', ')}` : 'codegen: up to date');
    return 0;
  } catch (e) {
    console.error(`codegen: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/'))) {
  process.exitCode = main(process.argv.slice(2));
}
