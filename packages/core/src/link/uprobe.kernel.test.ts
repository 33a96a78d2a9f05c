import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { LinkType } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { BpfProgram } from '../program/program.ts';
import { symbolOffset } from './binary.ts';
import { countsMap } from './counts.fixtures.ts';
import { Link } from './index.ts';
import { attachUprobe, UprobeLink } from './uprobe.ts';

const noUprobes = existsSync('/sys/bus/event_source/devices/uprobe')
  ? undefined
  : 'uprobes: no uprobe PMU in this kernel';
// Node's own binary: `process.ppid` calls libuv's uv_os_getppid every time.
const node = process.execPath;

function inTempDir(test: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-uprobe-'));
  try {
    test(dir);
  } finally {
    rmSync(dir, { recursive: true });
  }
}

describe('symbolOffset', () => {
  it('finds functions of an ELF binary and refuses what is not there', () => {
    expect(symbolOffset(node, 'uv_os_getppid')).toBeGreaterThan(0);
    expect(() => symbolOffset(node, 'no_such_function_here')).toThrow(NotFoundError);
    expect(() => symbolOffset('/proc/self/status', 'main')).toThrow(InvalidArgumentError);
    expect(() => symbolOffset('/no/such/file', 'main')).toThrow(NotFoundError);
  });

  it('names the path it refuses: a directory, a short file that is not ELF', () => {
    inTempDir((dir) => {
      const text = join(dir, 'notes.txt');
      writeFileSync(text, 'not an ELF file\n');
      expect(() => symbolOffset(dir, 'main')).toThrow(InvalidArgumentError);
      expect(() => symbolOffset(dir, 'main')).toThrow(`${dir} is a directory`);
      expect(() => symbolOffset(text, 'main')).toThrow(InvalidArgumentError);
      expect(() => symbolOffset(text, 'main')).toThrow(`${text} is not a usable ELF file`);
    });
  });
});

requireKernel('attachUprobe', () => {
  const counts = countsMap();
  const loadCounting = () =>
    BpfProgram.load({ type: 'kprobe', instructions: countingProgram(0), license: 'GPL', maps: counts.maps });

  it.skipIf(skipUnsupported(noUprobes))(
    'counts calls of a function in a running binary, on entry and on return',
    () => {
      using prog = loadCounting();
      for (const returnProbe of [false, true]) {
        const before = counts.hits();
        {
          using link = attachUprobe(prog, node, { symbol: 'uv_os_getppid', returnProbe, pid: process.pid });
          expect(link).toBeInstanceOf(UprobeLink);
          for (let i = 0; i < 5; i++) expect(process.ppid).toBeGreaterThan(0);
          expect(counts.hits() - before).toBe(5n);
          const info = link.info();
          expect(info.type).toBe(LinkType.PerfEvent);
          using again = Link.fromId(info.id);
          expect(again).toBeInstanceOf(UprobeLink);
        }
        const after = counts.hits();
        expect(process.ppid).toBeGreaterThan(0);
        expect(counts.hits()).toBe(after);
      }
    },
  );

  it.skipIf(skipUnsupported(noUprobes))('finds a library by its bare name, as libbpf does', () => {
    using prog = loadCounting();
    const before = counts.hits();
    // Node's process.ppid calls libc's getppid().
    using link = attachUprobe(prog, 'libc.so.6', { symbol: 'getppid', pid: process.pid });
    expect(link.target).toMatch(/^\/.*\/libc\.so\.6:getppid$/);
    for (let i = 0; i < 3; i++) expect(process.ppid).toBeGreaterThan(0);
    expect(counts.hits() - before).toBe(3n);
  });

  it('checks its arguments', () => {
    using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    expect(() => attachUprobe(xdp, node, { symbol: 'uv_os_getppid' })).toThrow(/needs a kprobe program/);
    using prog = BpfProgram.load({ type: 'kprobe', instructions: [mov64(R0, 0), exit()], license: 'GPL' });
    expect(() => attachUprobe(prog, './node', { symbol: 'uv_os_getppid' })).toThrow(/absolute path/);
    expect(() => attachUprobe(prog, 'libnothing.so.9', { offset: 0 })).toThrow(NotFoundError);
    expect(() => attachUprobe(prog, 'libnothing.so.9', { offset: 0 })).toThrow(
      /no libnothing\.so\.9 in .*\/usr\/lib64, \/usr\/lib.*: give its absolute path/,
    );
    expect(() => attachUprobe(prog, node, {})).toThrow(/symbol or an offset/);
    expect(() => attachUprobe(prog, node, { symbol: 'no_such_function_here' })).toThrow(NotFoundError);
    inTempDir((dir) => {
      expect(() => attachUprobe(prog, dir, { offset: 0 })).toThrow(`${dir} is a directory`);
      expect(() => attachUprobe(prog, dir, { symbol: 'main' })).toThrow(InvalidArgumentError);
      expect(() => attachUprobe(prog, join(dir, 'gone'), { offset: 0 })).toThrow(NotFoundError);
    });
  });
});
