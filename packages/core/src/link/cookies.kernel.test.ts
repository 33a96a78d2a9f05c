import { existsSync } from 'node:fs';
import { add64, call, exit, jeq, label, ldMapFd, mov64, R0, R1, R2, R6, R10, stw, stxdw } from '@ebpf/asm';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { PerfSwId } from '@ebpf/uapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/program.ts';
import { attachPerfEvent } from './perf-event.ts';
import { attachRawTracepoint } from './raw-tracepoint.ts';
import { attachTracepoint } from './tracepoint.ts';
import { attachUprobe } from './uprobe.ts';

/** `seen[0] = bpf_get_attach_cookie(ctx)`, return 0. */
const recordCookie = [
  call('get_attach_cookie'),
  mov64(R6, R0),
  stw(R10, -4, 0),
  mov64(R2, R10),
  add64(R2, -4),
  ldMapFd(R1, 'seen'),
  call('map_lookup_elem'),
  jeq(R0, 0, 'out'),
  stxdw(R0, 0, R6),
  label('out'),
  mov64(R0, 0),
  exit(),
];

const noUprobes = existsSync('/sys/bus/event_source/devices/uprobe') ? undefined : 'uprobes: no uprobe PMU';

requireKernel('attach cookies', () => {
  let seen: BpfMap<number, bigint>;
  beforeAll(() => {
    seen = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
  });
  afterAll(() => seen?.close());
  const load = (type: 'tracepoint' | 'raw_tracepoint' | 'kprobe' | 'perf_event') =>
    BpfProgram.load({ type, instructions: recordCookie, license: 'GPL', maps: { seen } });

  it('a tracepoint (perf_event link) passes its cookie to the program and reports it', () => {
    using prog = load('tracepoint');
    using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid', { cookie: 0x1234_5678_9abcn });
    expect(process.ppid).toBeGreaterThan(0);
    expect(seen.get(0)).toBe(0x1234_5678_9abcn);
    expect(link.info().cookie).toBe(0x1234_5678_9abcn);
  });

  it('a raw tracepoint passes its cookie', () => {
    using prog = load('raw_tracepoint');
    using link = attachRawTracepoint(prog, 'sys_enter', { cookie: 77 });
    expect(process.ppid).toBeGreaterThan(0);
    expect(seen.get(0)).toBe(77n);
    expect(link.info()).toMatchObject({
      tracepoint: 'sys_enter',
      cookie: 77n,
      target: 'raw tracepoint sys_enter',
    });
  });

  it.skipIf(skipUnsupported(noUprobes))('a uprobe passes its cookie', () => {
    using prog = load('kprobe');
    using link = attachUprobe(prog, process.execPath, {
      symbol: 'uv_os_getppid',
      pid: process.pid,
      cookie: 2n ** 63n,
    });
    expect(process.ppid).toBeGreaterThan(0);
    expect(seen.get(0)).toBe(2n ** 63n);
    expect(link.info().cookie).toBe(2n ** 63n);
  });

  it('a sampled perf event passes its cookie', () => {
    using prog = load('perf_event');
    using link = attachPerfEvent(prog, {
      type: 'software',
      config: PerfSwId.CpuClock,
      pid: process.pid,
      samplePeriod: 100_000,
      cookie: 5,
    });
    const end = Date.now() + 50;
    while (Date.now() < end) {
      // let samples fire
    }
    expect(seen.get(0)).toBe(5n);
    expect(link.info().cookie).toBe(5n);
  });

  it('refuses cookies that are not 64-bit unsigned integers', () => {
    using prog = load('tracepoint');
    for (const cookie of [-1, 1.5, 2n ** 64n, '3' as never]) {
      expect(() => attachTracepoint(prog, 'syscalls', 'sys_enter_getppid', { cookie })).toThrow(
        /cookie must be a 64-bit unsigned integer/,
      );
    }
  });
});
