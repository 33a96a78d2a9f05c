import { Session } from 'node:inspector';
import { add64, exit, ldMapFd, mov64, R0, R1, R2 } from '@ebpf/asm';
import { requireKernel } from '@ebpf/test-utils';
import { XdpAction } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { readObjectInfo } from '../object-info.ts';
import { BpfProgram } from './program.ts';
import { VerifierError } from './verifier-error.ts';

// loadProgram reuses one log buffer, one attr and the license bytes across loads: these tests
// check that no load sees what an earlier one left there.
requireKernel('loadProgram buffer reuse', () => {
  const pass = [mov64(R0, XdpAction.Pass), exit()];
  const drop = [mov64(R0, XdpAction.Drop), exit()];

  describe('reused buffers', () => {
    it('gives each load its own log, whatever the previous load logged', () => {
      using walk = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL', logLevel: 2 });
      expect(walk.verifierLog).toContain('r0 = 2');
      using other = BpfProgram.load({ type: 'xdp', instructions: drop, license: 'GPL', logLevel: 2 });
      expect(other.verifierLog).toContain('r0 = 1');
      expect(other.verifierLog).not.toContain('r0 = 2');
      using stats = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL', logLevel: 4 });
      expect(stats.verifierLog).toMatch(/^verification time \d+ usec/);
      expect(stats.verifierLog).not.toContain('r0 = 2');
    });

    it('reports the failing load’s own log after a successful load with a log, and loads again after it', () => {
      using first = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL', logLevel: 2 });
      expect(first.verifierLog).toContain('r0 = 2');
      let error: unknown;
      try {
        // r2 is never written: reading it is refused.
        BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, R2), exit()], license: 'GPL' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(VerifierError);
      expect((error as VerifierError).log).toMatch(/R2 !read_ok/);
      expect((error as VerifierError).log).not.toContain('r0 = 2');
      using again = BpfProgram.load({ type: 'xdp', instructions: drop, license: 'GPL', logLevel: 2 });
      expect(again.verifierLog).toContain('r0 = 1');
    });

    it('takes a small logSize from the reused buffer and grows past it when the log needs more', () => {
      using small = BpfProgram.load({
        type: 'xdp',
        instructions: pass,
        license: 'GPL',
        logLevel: 2,
        logSize: 128,
      });
      expect(small.verifierLog).toMatch(/processed 2 insns/);
    });

    it('uses each load’s own license', () => {
      using gpl = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'GPL' });
      using dual = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'Dual MIT/GPL' });
      using proprietary = BpfProgram.load({ type: 'xdp', instructions: pass, license: 'Proprietary' });
      const gplCompatible = (prog: BpfProgram) => readObjectInfo(prog.fd, 'prog').gplCompatible;
      expect(gplCompatible(gpl)).toBe(1);
      expect(gplCompatible(dual)).toBe(1);
      expect(gplCompatible(proprietary)).toBe(0);
    });
  });
});

requireKernel('loadProgram under signals', () => {
  it('retries a load the verifier gave up on because a signal arrived (EAGAIN)', async () => {
    // The CPU profiler signals the process every millisecond (Node's default interval); about one
    // load in fifteen of this program is interrupted and answered EAGAIN, which must be retried.
    const session = new Session();
    session.connect();
    const post = (method: string, params?: object) =>
      new Promise<void>((resolve, reject) =>
        session.post(method, params, (error) => (error ? reject(error) : resolve())),
      );
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 1000 });
    await post('Profiler.start');
    try {
      const program = [mov64(R0, 0), ...Array.from({ length: 100 }, () => add64(R0, 1)), exit()];
      for (let i = 0; i < 100; i++) {
        using prog = BpfProgram.load({ type: 'socket_filter', instructions: program, license: 'GPL' });
        expect(prog.fd).toBeGreaterThan(0);
      }
    } finally {
      await post('Profiler.stop');
      session.disconnect();
    }
  });
});

requireKernel('BpfProgram.load refuses what is not a program before the kernel', () => {
  it('names an unresolved map reference and its instruction, a map option that is no map, an ELF file', () => {
    const base = { type: 'xdp', license: 'GPL' } as const;
    const program = [ldMapFd(R1, 'counts'), mov64(R0, 0), exit()];
    expect(() => BpfProgram.load({ ...base, instructions: program })).toThrow(
      /instructions\[0\] refers to map 'counts', which is not in maps/,
    );
    expect(() => BpfProgram.load({ ...base, instructions: program, maps: { counts: 5 as never } })).toThrow(
      /maps\.counts must be a BpfMap/,
    );
    const elf = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    expect(() => BpfProgram.load({ ...base, instructions: elf })).toThrow(InvalidArgumentError);
    expect(() => BpfProgram.load({ ...base, instructions: elf })).toThrow(/ELF object file/);
  });
});
