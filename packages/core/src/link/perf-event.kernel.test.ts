import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { PerfSwId, PerfType } from '@ebpf/uapi';
import { expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { BpfProgram } from '../program/program.ts';
import { countsMap } from './counts.fixtures.ts';
import { Link } from './index.ts';
import { attachPerfEvent, PerfEventLink } from './perf-event.ts';

/** Keeps this thread on a CPU for `ms`, so that cpu-clock samples land on it. */
function spin(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
}

requireKernel('attachPerfEvent', () => {
  const counts = countsMap();

  it('runs the program on cpu-clock samples of this process, by period and by frequency', () => {
    using prog = BpfProgram.load({
      type: 'perf_event',
      instructions: countingProgram(0),
      license: 'GPL',
      maps: counts.maps,
    });
    for (const sampling of [{ samplePeriod: 1_000_000 }, { frequency: 1000 }]) {
      const before = counts.hits();
      {
        using link = attachPerfEvent(prog, {
          type: 'software',
          config: PerfSwId.CpuClock,
          pid: process.pid,
          ...sampling,
        });
        expect(link).toBeInstanceOf(PerfEventLink);
        spin(100);
        expect(counts.hits() - before).toBeGreaterThan(10n);
        // The kernel reports the PMU that took the event (cpu-clock has its own since 6.x), and the config.
        expect(link.info()).toMatchObject({ perfEvent: 'event', config: BigInt(PerfSwId.CpuClock) });
        expect(link.info().eventType).toEqual(expect.any(Number));
        using again = Link.fromId(link.id);
        expect(again).toBeInstanceOf(PerfEventLink);
        expect((again as PerfEventLink).config).toBe(BigInt(PerfSwId.CpuClock));
      }
      const after = counts.hits();
      spin(20);
      expect(counts.hits()).toBe(after);
    }
  });

  it('samples a whole CPU', () => {
    using prog = BpfProgram.load({
      type: 'perf_event',
      instructions: countingProgram(0),
      license: 'GPL',
      maps: counts.maps,
    });
    const before = counts.hits();
    using _link = attachPerfEvent(prog, {
      type: PerfType.Software,
      config: PerfSwId.CpuClock,
      cpu: 0,
      frequency: 1000,
    });
    spin(150);
    expect(counts.hits() - before).toBeGreaterThan(0n);
  });

  it('checks its arguments', () => {
    using prog = BpfProgram.load({
      type: 'perf_event',
      instructions: [mov64(R0, 0), exit()],
      license: 'GPL',
    });
    using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    const cpuClock = { type: 'software', config: PerfSwId.CpuClock } as const;
    expect(() => attachPerfEvent(xdp, { ...cpuClock, cpu: 0 })).toThrow(
      /needs a perf_event program, got a xdp program/,
    );
    expect(() => attachPerfEvent(prog, cpuClock)).toThrow(/a process \(pid\), a CPU \(cpu\) or both/);
    expect(() => attachPerfEvent(prog, { ...cpuClock, cpu: 0, frequency: 10, samplePeriod: 1 })).toThrow(
      /not both/,
    );
    expect(() => attachPerfEvent(prog, { type: 'bogus' as never, config: 0, cpu: 0 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => attachPerfEvent(prog, { ...cpuClock, cpu: 1.5 })).toThrow(/cpu must be/);
  });
});
