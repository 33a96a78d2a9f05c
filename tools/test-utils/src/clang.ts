/**
 * Builds the C test objects in `tools/test-utils/objects/` with clang-16 for either BPF byte order
 * (the corpus the object, CO-RE and Collection tests share), and asks `llvm-readelf-16` about the
 * result, as an oracle the ELF reader is compared with; and, with gcc, the traced program of the
 * USDT tests.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLANG = 'clang-16';
export const READELF = 'llvm-readelf-16';

/** Throws unless every tool runs: missing clang is a failure, not a skip. */
export function requireTools(tools: readonly string[] = [CLANG, READELF]): void {
  for (const tool of tools) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: the object tests build C with it (run tools/setup.sh)`);
    }
  }
}

/** A scratch directory for built objects, removed by `dispose`. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'ebpf-object-'));

  path(name: string): string {
    return join(this.dir, name);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Compiles `objects/<name>.c` as `clang -O2 -g -target <target> -c`, with `include` folders
 * searched first (a {@link vmlinuxHeader} folder for CO-RE objects); returns the object's path.
 */
export function buildObject(
  scratch: Scratch,
  name: string,
  target: 'bpfel' | 'bpfeb',
  include: readonly string[] = [],
): string {
  return buildSource(scratch, new URL(`../objects/${name}.c`, import.meta.url), target, include);
}

/**
 * Compiles the C file at `source` (an example's program, say) like {@link buildObject}, with
 * `defines` (`NAME=value`) passed as `-D` options.
 */
export function buildSource(
  scratch: Scratch,
  source: string | URL,
  target: 'bpfel' | 'bpfeb',
  include: readonly string[] = [],
  defines: readonly string[] = [],
): string {
  const path = source instanceof URL ? fileURLToPath(source) : source;
  const out = scratch.path(`${basename(path, '.c')}.${target}.o`);
  // Debian keeps <asm/types.h> (needed by <linux/bpf.h>) under the host's multiarch folder.
  execFileSync(CLANG, [
    '-O2',
    '-g',
    '-target',
    target,
    ...include.map((dir) => `-I${dir}`),
    '-I/usr/include/x86_64-linux-gnu',
    ...defines.map((define) => `-D${define}`),
    '-c',
    path,
    '-o',
    out,
  ]);
  return out;
}

/** Writes this kernel's `vmlinux.h` (`bpftool btf dump ... format c`) into `scratch`; returns its folder. */
export function vmlinuxHeader(scratch: Scratch): string {
  const header = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
    maxBuffer: 1 << 28,
  });
  writeFileSync(scratch.path('vmlinux.h'), header);
  return scratch.dir;
}

/**
 * The raw `.BTF` of C `source` (types are emitted for what globals use), compiled like
 * {@link buildObject}: small local and target BTF for CO-RE unit tests without a kernel.
 */
export function btfOfSource(scratch: Scratch, name: string, source: string): Uint8Array {
  const object = scratch.path(`${name}.o`);
  const raw = scratch.path(`${name}.btf`);
  execFileSync(
    CLANG,
    ['-O2', '-g', '-target', 'bpfel', '-I/usr/include/x86_64-linux-gnu', '-x', 'c', '-c', '-', '-o', object],
    {
      input: source,
    },
  );
  execFileSync('llvm-objcopy-16', [`--dump-section=.BTF=${raw}`, object]);
  return readBytes(raw);
}

export const readBytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** `llvm-readelf` output for `args` on `path`. */
export const readelf = (path: string, ...args: string[]): string =>
  execFileSync(READELF, ['--wide', ...args, path], { encoding: 'utf8' });

/** The <sys/sdt.h> of systemtap-sdt-dev (Debian keeps it under the host's multiarch folder). */
const SDT_HEADERS = '/usr/include/x86_64-linux-gnu/sys';

/**
 * Builds `usdt/usdt-probes.c` (the traced program of the USDT tests: a site of every argument
 * kind, one behind a semaphore) with gcc for `machine` (the aarch64 build is for reading its
 * notes, not for running); returns the binary's path.
 */
export function buildUsdtProbes(scratch: Scratch, machine: 'x86_64' | 'aarch64' = 'x86_64'): string {
  const source = (name: string) => fileURLToPath(new URL(`../usdt/${name}`, import.meta.url));
  const out = scratch.path(`usdt-probes-${machine}`);
  // A cross compiler does not search the host's multiarch folder: sdt.h is copied beside the build.
  const include = scratch.path('sdt-include');
  mkdirSync(join(include, 'sys'), { recursive: true });
  for (const header of ['sdt.h', 'sdt-config.h'])
    copyFileSync(join(SDT_HEADERS, header), join(include, 'sys', header));
  const gcc = machine === 'x86_64' ? 'gcc' : 'aarch64-linux-gnu-gcc';
  try {
    execFileSync(
      gcc,
      ['-O2', '-g', `-I${include}`, '-o', out, source('usdt-probes.c'), source('usdt-guarded.c')],
      {
        stdio: 'pipe',
      },
    );
  } catch (cause) {
    const stderr = (cause as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(
      `cannot build the USDT probes with ${gcc} (needs systemtap-sdt-dev, see tools/setup.sh):\n${stderr}`,
      {
        cause,
      },
    );
  }
  return out;
}
