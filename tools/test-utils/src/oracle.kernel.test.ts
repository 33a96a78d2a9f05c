import { afterAll, expect, it } from 'vitest';
import { buildObject, Scratch } from './clang.ts';
import { requireKernel } from './kernel.ts';
import { insnBytes, libbpfOracle } from './oracle.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());

requireKernel('the libbpf oracle', () => {
  const object = buildObject(scratch, 'elf-basics', 'bpfel');

  it('reports programs, maps as the kernel holds them, test runs and map contents', () => {
    const xdpIn = new Uint8Array(64).fill(7);
    const report = libbpfOracle(object, {
      runs: [
        { program: 'pass_all', data: xdpIn },
        { program: 'pass_all', data: xdpIn },
      ],
    });
    expect(report.loaded).toBe(true);
    expect(report.object).toBe('elf-basics');

    const pass = report.programs.find((p) => p.name === 'pass_all');
    expect(pass).toMatchObject({ section: 'xdp', type: 'xdp', expectedAttachType: 'xdp', loaded: true });
    // The final program: the subprogram appended, ending in exit (opcode 0x95).
    const last = insnBytes(pass?.insns ?? []).subarray(-8);
    expect(last[0]).toBe(0x95);
    // The kernel's copy (array lookups inlined, maps named by id) ends in exit too.
    expect(insnBytes(pass?.xlated ?? []).subarray(-8)[0]).toBe(0x95);
    expect(report.programs.find((p) => p.name === 'on_getpid')?.type).toBe('tracepoint');

    const counts = report.maps.find((m) => m.name === 'counts');
    expect(counts?.info).toMatchObject({
      name: 'counts',
      type: 'array',
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
    });
    // libbpf names global data maps by a prefix of the object name and the section.
    const data = report.maps.find((m) => m.name.endsWith('.data'));
    expect(data?.info?.flags).toBe(0x400); // BPF_F_MMAPABLE

    // global_counter is 1 and add_one(1) returns 2 = XDP_PASS; each run counts once.
    expect(report.runs.map((r) => r.retval)).toEqual([2, 2]);
    expect(report.runs[0]?.dataOut).toBe(Buffer.from(xdpIn).toString('hex'));
    expect(report.runs[0]?.contents.counts?.entries).toEqual([['00000000', '0100000000000000']]);
    expect(report.contents.counts?.entries).toEqual([['00000000', '0200000000000000']]);
  });

  it('leaves programs unloaded on request', () => {
    const report = libbpfOracle(object, { noLoad: ['on_getpid'] });
    expect(report.programs.find((p) => p.name === 'on_getpid')).toMatchObject({
      autoload: false,
      loaded: false,
      xlated: null,
    });
    expect(report.programs.find((p) => p.name === 'pass_all')?.loaded).toBe(true);
  });
});
