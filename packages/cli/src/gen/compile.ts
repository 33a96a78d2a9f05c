/**
 * `ebpf gen types prog.c`: builds the object first, as libbpf tools do: clang, optimised (the
 * verifier needs it), with BTF (`-g`, which the generator reads), for the host's byte order,
 * with the host's multiarch headers (Debian keeps `<asm/types.h>` there) and libbpf's
 * `__TARGET_ARCH_*` for `bpf_tracing.h`.
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { CliError, ExitCode } from '../exit-codes.ts';

/** clang's names, newest packaged first: Debian and Ubuntu install a versioned binary. */
const CLANGS = ['clang-16', 'clang'];

const ARCH: Readonly<Record<string, { multiarch: string; target: string }>> = {
  x64: { multiarch: 'x86_64-linux-gnu', target: 'x86' },
  arm64: { multiarch: 'aarch64-linux-gnu', target: 'arm64' },
  s390x: { multiarch: 's390x-linux-gnu', target: 's390' },
  ppc64: { multiarch: 'powerpc64le-linux-gnu', target: 'powerpc' },
  riscv64: { multiarch: 'riscv64-linux-gnu', target: 'riscv' },
};

export interface CompileOptions {
  /** Folders searched for headers first (`-I`). */
  readonly includes?: readonly string[];
  /** The clang to run; default the first of clang-16, clang found. */
  readonly clang?: string;
}

/** The clang arguments that build `source` into `output`. */
export function clangArguments(source: string, output: string, includes: readonly string[] = []): string[] {
  const arch = ARCH[process.arch];
  return [
    '-O2',
    '-g',
    // The object's bytes are embedded in generated modules: keep them the same wherever the checkout lives.
    '-fdebug-compilation-dir=.',
    `-fdebug-prefix-map=${dirname(resolve(source))}=.`,
    '-target',
    'bpf',
    ...(arch ? [`-D__TARGET_ARCH_${arch.target}`] : []),
    ...includes.map((dir) => `-I${dir}`),
    ...(arch ? [`-I/usr/include/${arch.multiarch}`] : []),
    '-c',
    source,
    '-o',
    output,
  ];
}

/** Compiles C `source` into the object `output`; a missing clang or a compile error is a `CliError`. */
export function compileC(source: string, output: string, options: CompileOptions = {}): void {
  const args = clangArguments(source, output, options.includes);
  for (const clang of options.clang !== undefined ? [options.clang] : CLANGS) {
    const result = spawnSync(clang, args, { encoding: 'utf8' });
    if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') continue;
    if (result.error !== undefined) throw new CliError(`${clang} did not run: ${result.error.message}`);
    if (result.status !== 0)
      throw new CliError(
        `${clang} could not compile ${source}`,
        ExitCode.Failure,
        result.stderr.trimEnd().split('\n'),
      );
    return;
  }
  throw new CliError(
    `clang is not installed (looked for ${options.clang ?? CLANGS.join(', ')}): ebpf gen types needs it to build ${source}`,
    ExitCode.NotFound,
    ['install it (Debian/Ubuntu: apt install clang-16), pass --clang <path>, or give the built .o instead'],
  );
}
