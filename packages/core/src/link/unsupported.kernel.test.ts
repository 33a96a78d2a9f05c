import { existsSync } from 'node:fs';
import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { BpfProgram } from '../program/program.ts';
import { countsMap } from './counts.fixtures.ts';
import { attachKprobe, KprobeLink } from './kprobe.ts';
import { attachKprobeMulti, KprobeMultiLink, kprobeMultiUnsupported } from './kprobe-multi.ts';
import { attachTracing, TracingLink, trampolinesRefused } from './tracing.ts';

/**
 * Hooks this kernel may refuse: kprobes (`CONFIG_KPROBES`), kprobe_multi (fprobe) and BPF
 * trampolines (lockdown). Where refused, the tests prove the refusal is detected and named;
 * where allowed, they attach for real.
 */

const returns0 = [mov64(R0, 0), exit()];
const noKprobePmu = existsSync('/sys/bus/event_source/devices/kprobe')
  ? undefined
  : 'kprobes: no kprobe PMU (/sys/bus/event_source/devices/kprobe; CONFIG_KPROBES off)';

requireKernel('hooks this kernel may refuse', () => {
  const counts = countsMap();
  const kprobe = (attachType?: string) =>
    BpfProgram.load({
      type: 'kprobe',
      instructions: countingProgram(0),
      license: 'GPL',
      maps: counts.maps,
      ...(attachType ? { attachType } : {}),
    } as never);

  describe('attachKprobe', () => {
    it.runIf(noKprobePmu !== undefined)('names the missing kprobe PMU', () => {
      using prog = kprobe();
      expect(() => attachKprobe(prog, 'do_sys_openat2')).toThrow(NotSupportedError);
      expect(() => attachKprobe(prog, 'do_sys_openat2')).toThrow(
        /no kprobe PMU \(\/sys\/bus\/event_source\/devices\/kprobe\)/,
      );
    });
    it.skipIf(skipUnsupported(noKprobePmu, 'kprobe'))('counts calls of a kernel function', () => {
      using prog = kprobe();
      const before = counts.hits();
      using link = attachKprobe(prog, '__x64_sys_getppid');
      expect(link).toBeInstanceOf(KprobeLink);
      for (let i = 0; i < 3; i++) expect(process.ppid).toBeGreaterThan(0);
      expect(counts.hits() - before).toBeGreaterThanOrEqual(3n);
      expect(link.info()).toMatchObject({ perfEvent: 'kprobe', function: '__x64_sys_getppid' });
    });
    it('checks its arguments', () => {
      using prog = kprobe();
      expect(() => attachKprobe(prog, 'no spaces')).toThrow(InvalidArgumentError);
      expect(() => attachKprobe(prog, 'f', { offset: -1 })).toThrow(/offset/);
    });
  });

  describe('attachKprobeMulti', () => {
    const why = kprobeMultiUnsupported();
    it.runIf(why !== undefined)('throws NotSupportedError with the reason a real link probe found', () => {
      using prog = kprobe('trace_kprobe_multi');
      expect(() => attachKprobeMulti(prog, { symbols: ['do_sys_openat2'] })).toThrow(NotSupportedError);
      expect(() => attachKprobeMulti(prog, { symbols: ['do_sys_openat2'] })).toThrow(why!);
      // A session program (kprobe.session) goes through the same link: the same reason.
      using session = kprobe('trace_kprobe_session');
      expect(() => attachKprobeMulti(session, { symbols: ['do_sys_openat2'] })).toThrow(why!);
      expect(() => attachKprobeMulti(session, { symbols: ['f'], returnProbe: true })).toThrow(
        /drop returnProbe/,
      );
    });
    it.skipIf(skipUnsupported(why && `kprobe_multi links: ${why}`, 'kprobe_multi'))(
      'counts calls of several kernel functions',
      () => {
        using prog = kprobe('trace_kprobe_multi');
        const before = counts.hits();
        using link = attachKprobeMulti(prog, {
          symbols: ['__x64_sys_getppid', '__x64_sys_getpid'],
          cookies: [1, 2],
        });
        expect(link).toBeInstanceOf(KprobeMultiLink);
        expect(process.ppid).toBeGreaterThan(0);
        expect(counts.hits() - before).toBeGreaterThanOrEqual(1n);
        expect(link.info()).toMatchObject({ cookies: [1n, 2n] });
      },
    );
    it('checks its arguments before asking the kernel', () => {
      using plain = kprobe();
      expect(() => attachKprobeMulti(plain, { symbols: ['f'] })).toThrow(/trace_kprobe_multi/);
      using prog = kprobe('trace_kprobe_multi');
      expect(() => attachKprobeMulti(prog, {})).toThrow(/symbols or addresses/);
      expect(() => attachKprobeMulti(prog, { symbols: ['a'], cookies: [1, 2] })).toThrow(/one per function/);
    });
  });

  describe('attachTracing', () => {
    const refused = trampolinesRefused();
    it.runIf(refused !== undefined)('names lockdown as the reason trampolines are refused', () => {
      expect(refused).toMatch(/refused by kernel lockdown \((integrity|confidentiality)/);
      const load = () =>
        BpfProgram.load({
          type: 'tracing',
          attachType: 'trace_fentry',
          attachTo: 'do_sys_openat2',
          instructions: returns0,
          license: 'GPL',
        });
      expect(load).toThrow(NotSupportedError);
      expect(load).toThrow(/lockdown/);
    });
    it.skipIf(skipUnsupported(refused, 'trampoline'))('counts calls of a kernel function with fentry', () => {
      using prog = BpfProgram.load({
        type: 'tracing',
        attachType: 'trace_fentry',
        attachTo: '__x64_sys_getppid',
        instructions: countingProgram(0),
        license: 'GPL',
        maps: counts.maps,
      });
      const before = counts.hits();
      using link = attachTracing(prog, { cookie: 9 });
      expect(link).toBeInstanceOf(TracingLink);
      expect(process.ppid).toBeGreaterThan(0);
      expect(counts.hits() - before).toBeGreaterThanOrEqual(1n);
      expect(link.info()).toMatchObject({ attachType: 'trace_fentry', cookie: 9n });
    });
    it('checks the program before asking the kernel', () => {
      using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
      expect(() => attachTracing(xdp)).toThrow(/tracing, lsm or ext program/);
      expect(() => attachTracing({ fd: 0, type: 26 /* tracing */, attachType: undefined })).toThrow(
        /attachType fentry/,
      );
    });
  });
});
