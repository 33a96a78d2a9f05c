import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { LinkType } from '@ebpf/uapi';
import { expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { BpfProgram } from '../program/program.ts';
import { countsMap } from './counts.fixtures.ts';
import { Link } from './index.ts';
import { attachRawTracepoint, RawTracepointLink } from './raw-tracepoint.ts';
import { attachTracepoint, TracepointLink } from './tracepoint.ts';

/** counts[0] += 1 on every hit. */
const counter = () => countingProgram(0);

requireKernel('tracepoints', () => {
  const counts = countsMap();

  it('attaches a raw tracepoint program by name', async () => {
    using prog = BpfProgram.load({
      type: 'raw_tracepoint',
      instructions: counter(),
      license: 'GPL',
      maps: counts.maps,
    });
    const before = counts.hits();
    using link = attachRawTracepoint(prog, 'sys_enter');
    expect(link).toBeInstanceOf(RawTracepointLink);
    expect(link.tracepoint).toBe('sys_enter');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(counts.hits()).toBeGreaterThan(before);
    const info = link.info();
    expect(info.type).toBe(LinkType.RawTracepoint);
    expect(info.progId).toBe(prog.info().id);
    const again = Link.fromId(info.id);
    expect(again).toBeInstanceOf(RawTracepointLink);
    again.close();
    link.close();
    // The kernel releases a closed link asynchronously: let it settle, then nothing more counts.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = counts.hits();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counts.hits()).toBe(after);
  });

  it('attaches a tracepoint program through a perf event', async () => {
    using prog = BpfProgram.load({
      type: 'tracepoint',
      instructions: counter(),
      license: 'GPL',
      maps: counts.maps,
    });
    const before = counts.hits();
    using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
    expect(link).toBeInstanceOf(TracepointLink);
    for (let i = 0; i < 5; i++) process.ppid;
    expect(counts.hits()).toBeGreaterThan(before);
    expect(link.info().type).toBe(LinkType.PerfEvent);
    expect(link.info().progId).toBe(prog.info().id);
  });

  it('checks program types and names', () => {
    using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    expect(() => attachRawTracepoint(xdp, 'sys_enter')).toThrow(InvalidArgumentError);
    expect(() => attachTracepoint(xdp, 'syscalls', 'sys_enter_getppid')).toThrow(InvalidArgumentError);
    using raw = BpfProgram.load({
      type: 'raw_tracepoint',
      instructions: [mov64(R0, 0), exit()],
      license: 'GPL',
    });
    expect(() => attachRawTracepoint(raw, 'no_such_tracepoint_at_all')).toThrow(NotFoundError);
    expect(() => attachRawTracepoint(raw, '../etc')).toThrow(InvalidArgumentError);
    using tp = BpfProgram.load({ type: 'tracepoint', instructions: [mov64(R0, 0), exit()], license: 'GPL' });
    expect(() => attachTracepoint(tp, 'syscalls', 'no_such_event')).toThrow(NotFoundError);
  });
});
