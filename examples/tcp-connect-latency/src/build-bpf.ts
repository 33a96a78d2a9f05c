/**
 * `pnpm build`'s second step: writes this kernel's types as `build/vmlinux.h` (what `ebpf gen
 * vmlinux` writes, from the kernel's BTF), then compiles the C program against it into `dist/`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kernelBtf } from '@ebpf/core';

const root = fileURLToPath(new URL('../', import.meta.url));
mkdirSync(`${root}/build`, { recursive: true });
writeFileSync(`${root}/build/vmlinux.h`, kernelBtf().toC());
execFileSync(
  'clang-16',
  [
    '-O2',
    '-g',
    '-target',
    'bpfel',
    '-Ibuild',
    '-c',
    'src/tcp-connect-latency.bpf.c',
    '-o',
    'dist/tcp-connect-latency.bpf.o',
  ],
  { cwd: root, stdio: 'inherit' },
);
