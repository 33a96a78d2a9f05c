/**
 * A module `ebpf gen types prog.c --no-embed` wrote, used as an application would: load() the
 * object, run its program, read the typed map, the per-CPU counts, the globals and a ring
 * buffer record back through the generated types; close() leaves no fd open.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RingBuffer } from '@ebpf/core';
import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { buildObject, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { runMain } from '../testing.ts';
import { generateTypes } from './index.ts';

requireTools(['clang-16']);

const source = new URL('../../../../tools/test-utils/objects/typed-records.c', import.meta.url).pathname;
const cacheDir = new URL('../../.vitest/', import.meta.url).pathname;
mkdirSync(cacheDir, { recursive: true });
const out = mkdtempSync(join(cacheDir, 'gen-kernel-'));
const scratch = new Scratch();
afterAll(() => {
  scratch.dispose();
  rmSync(out, { recursive: true, force: true });
});

requireKernel('a generated module loads and reads its object typed', () => {
  it('loads through load() and reads maps, variables and records as the generated types', async () => {
    const module = join(out, 'typed-records.gen.ts');
    const result = await runMain('gen', 'types', source, '-o', module, '--no-embed');
    expect(result.err).toContain('TypeScript for');
    expect(result.code).toBe(0);
    const gen = await import(module);
    const before = openFdCount();
    const objects = gen.load();
    try {
      expect(objects.programs.emit.run({ data: new Uint8Array(64) }).retval).toBe(2); // XDP_PASS
      const stored = objects.maps.by_key.get({ id: 1, kind: 2 });
      expect(stored).toMatchObject({ pid: 4242, comm: 'sample', ts: 0x1122334455667788n, delta: -5 });
      expect(stored.flags).toEqual({
        small: 5,
        rest: 17,
        wide: 0xabc,
        negative: -2,
        tint: 6,
        big: 0xfedcba9876n,
      });
      const perCpu: bigint[] = objects.maps.per_cpu.get(0);
      expect(perCpu.reduce((a, b) => a + b, 0n)).toBe(99n);
      expect(objects.variables.limit.get()).toBe(99n);
      expect(objects.variables.calls.get()).toBe(1);
      objects.variables.calls.set(41);
      objects.programs.emit.run({ data: new Uint8Array(64) });
      expect(objects.variables.calls.get()).toBe(42);
      const records: unknown[] = [];
      using ring = new RingBuffer(objects.maps.events);
      ring.consume((record) => {
        records.push(gen.eventCodec.read(new DataView(record.bytes().buffer), 0));
      });
      expect(records).toHaveLength(2);
      expect(records[0]).toEqual(stored);
    } finally {
      objects.close();
    }
    expect(openFdCount()).toBe(before);
  });

  it("returns the programs its options load, as load()'s type says", async () => {
    const module = join(out, 'programs-and-subprograms.gen.ts');
    const object = readFileSync(buildObject(scratch, 'programs-and-subprograms', 'bpfel'));
    writeFileSync(module, generateTypes({ object, name: 'programs', source: { kind: 'embed' } }));
    const gen = await import(module);
    using all = gen.load();
    expect(Object.keys(all.programs).sort()).toEqual(['first_xdp', 'second_xdp', 'socket_calls_all']);
    using some = gen.load({ programs: { first_xdp: { load: false }, not_autoloaded: { load: true } } });
    expect('first_xdp' in some.programs).toBe(false);
    expect(some.programs.not_autoloaded.fd).toBeGreaterThan(0);
  });
});
