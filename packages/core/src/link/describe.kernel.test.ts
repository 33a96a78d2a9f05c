import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { BpfProgram } from '../program/program.ts';
import { symbolOffset } from './binary.ts';
import { Link } from './index.ts';
import { attachTracepoint } from './tracepoint.ts';
import { attachUprobe } from './uprobe.ts';

const returns0 = [mov64(R0, 0), exit()];

requireKernel('link info of perf_event links', () => {
  it('names the tracepoint of a tracepoint link', () => {
    using prog = BpfProgram.load({ type: 'tracepoint', instructions: returns0, license: 'GPL' });
    using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
    expect(link.info()).toMatchObject({
      typeName: 'perf_event',
      perfEvent: 'tracepoint',
      tracepoint: 'sys_enter_getppid',
    });
  });

  it('gives the binary and file offset of a uprobe link, and says it is a uretprobe', () => {
    using prog = BpfProgram.load({ type: 'kprobe', instructions: returns0, license: 'GPL' });
    const node = process.execPath;
    const offset = symbolOffset(node, 'uv_os_getppid');
    for (const [returnProbe, perfEvent] of [
      [false, 'uprobe'],
      [true, 'uretprobe'],
    ] as const) {
      using link = attachUprobe(prog, node, { symbol: 'uv_os_getppid', returnProbe });
      expect(link.info()).toMatchObject({ perfEvent, path: node, offset });
    }
  });
});

requireKernel('Link.list', () => {
  it('shows every link on the system with its target, ours among them', () => {
    using prog = BpfProgram.load({ type: 'tracepoint', instructions: returns0, license: 'GPL' });
    using link = attachTracepoint(prog, 'syscalls', 'sys_enter_getppid');
    const all = Link.list();
    expect(all.find((l) => l.id === link.id)).toMatchObject({
      typeName: 'perf_event',
      target: 'tracepoint sys_enter_getppid',
      progId: prog.info().id,
    });
    for (const l of all) expect(l.target, `link ${l.id} (${l.typeName})`).not.toBe('');
  });
});
