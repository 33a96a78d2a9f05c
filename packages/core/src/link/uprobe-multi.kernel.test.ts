import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { expect, it } from 'vitest';
import { features } from '../features/index.ts';
import { BpfProgram } from '../program/program.ts';
import { symbolOffset } from './binary.ts';
import { countsMap } from './counts.fixtures.ts';
import { Link } from './index.ts';
import { attachUprobeMulti, UprobeMultiLink } from './uprobe-multi.ts';

const node = process.execPath;
const probe = features.probeLinkType('uprobe_multi');
const unsupported = probe.supported ? undefined : `uprobe_multi links: ${probe.reason}`;

requireKernel('attachUprobeMulti', () => {
  const counts = countsMap();
  const load = () =>
    BpfProgram.load({
      type: 'kprobe',
      attachType: 'trace_uprobe_multi',
      instructions: countingProgram(0),
      license: 'GPL',
      maps: counts.maps,
    });

  it.skipIf(skipUnsupported(unsupported))(
    'probes several places of a binary with one link, each with its cookie',
    () => {
      using prog = load();
      const getppid = symbolOffset(node, 'uv_os_getppid');
      for (const returnProbe of [false, true]) {
        const before = counts.hits();
        {
          // The same function twice: both probes fire on each call.
          using link = attachUprobeMulti(prog, {
            path: node,
            offsets: [getppid, getppid],
            cookies: [7, 8],
            pid: process.pid,
            returnProbe,
          });
          expect(link).toBeInstanceOf(UprobeMultiLink);
          for (let i = 0; i < 3; i++) expect(process.ppid).toBeGreaterThan(0);
          expect(counts.hits() - before).toBe(6n);
          expect(link.info()).toMatchObject({
            path: node,
            offsets: [BigInt(getppid), BigInt(getppid)],
            cookies: [7n, 8n],
            pid: process.pid,
            returnProbe,
          });
          using again = Link.fromId(link.id);
          expect(again).toBeInstanceOf(UprobeMultiLink);
        }
        const after = counts.hits();
        expect(process.ppid).toBeGreaterThan(0);
        expect(counts.hits()).toBe(after);
      }
    },
  );

  it.skipIf(skipUnsupported(unsupported))(
    'runs a session program on entry, and on return when entry returned 0',
    () => {
      const getppid = symbolOffset(node, 'uv_os_getppid');
      for (const [entryVerdict, perCall] of [
        [0, 2n],
        [1, 1n],
      ] as const) {
        using prog = BpfProgram.load({
          type: 'kprobe',
          attachType: 'trace_uprobe_session',
          instructions: countingProgram(entryVerdict),
          license: 'GPL',
          maps: counts.maps,
        });
        const before = counts.hits();
        using link = attachUprobeMulti(prog, { path: node, offsets: [getppid], pid: process.pid });
        expect(link).toBeInstanceOf(UprobeMultiLink);
        for (let i = 0; i < 3; i++) expect(process.ppid).toBeGreaterThan(0);
        expect(counts.hits() - before, `entry returns ${entryVerdict}`).toBe(3n * perCall);
        expect(() => attachUprobeMulti(prog, { path: node, offsets: [getppid], returnProbe: true })).toThrow(
          /drop returnProbe/,
        );
      }
    },
  );

  it('checks its arguments', () => {
    using prog = load();
    expect(() => attachUprobeMulti(prog, { path: './node', offsets: [1] })).toThrow(/absolute path/);
    expect(() => attachUprobeMulti(prog, { path: node })).toThrow(/symbols or offsets/);
    expect(() => attachUprobeMulti(prog, { path: node, offsets: [1, 2], cookies: [1] })).toThrow(
      /one per probe/,
    );
    using plain = BpfProgram.load({
      type: 'kprobe',
      instructions: countingProgram(0),
      license: 'GPL',
      maps: counts.maps,
    });
    expect(() => attachUprobeMulti(plain, { path: node, offsets: [1] })).toThrow(/trace_uprobe_multi/);
  });
});
