import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { openFdCount, requireKernel, skipUnsupported, thrown } from '@ebpf/test-utils';
import { buildSource, buildUsdtProbes, CLANG, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Collection } from '../collection/collection.ts';
import { CollectionSpec } from '../collection/spec.ts';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { BpfMap } from '../map/map.ts';
import { UprobeLink } from './uprobe.ts';
import { attachUsdt, UsdtLink } from './usdt.ts';

/**
 * The traced program (tools/test-utils/usdt) passes four probes once each: `stack` (memory
 * arguments of 1, 2, 4 and 8 bytes), `registers`, `constants` and `guarded` (behind its
 * semaphore). usdt.bpf.c records in slot bpf_usdt_cookie() what bpf_usdt_arg() reads.
 */
const testdata = `${import.meta.dirname}/testdata`;
const scratch = new Scratch();
const noUprobes = existsSync('/sys/bus/event_source/devices/uprobe') ? undefined : 'uprobes: no uprobe PMU';
let probes = '';
let object = '';

/** What each probe passes, as the program should read it. */
const expected: Record<string, bigint[]> = {
  stack: [-5n, 65000n, -123456n, -1234567890123n],
  registers: [-77n, 0x1122334455667788n, 200n],
  constants: [42n, -9n],
  guarded: [31337n],
};
const probeNames = Object.keys(expected);

/** Runs the traced program once; returns the semaphore it saw. */
const runProbes = (): number => {
  const out = execFileSync(probes, { input: 'go\n', encoding: 'utf8' });
  return Number(/semaphore (\d+)/.exec(out)?.[1]);
};

/** What `seen` holds in `slot`: argument count, the first four arguments, runs. */
function seen(coll: Collection, slot: number): { count: number; args: bigint[]; hits: bigint } {
  const value = coll.maps.seen?.get(new Uint8Array([slot, 0, 0, 0])) as Uint8Array;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const count = Number(view.getBigInt64(0, true));
  const args = [1, 2, 3, 4].map((i) => view.getBigInt64(i * 8, true)).slice(0, Math.max(count, 0));
  return { count, args, hits: view.getBigUint64(40, true) };
}

requireKernel('attachUsdt', () => {
  let spec: CollectionSpec;
  beforeAll(() => {
    requireTools([CLANG, 'gcc', 'g++']);
    probes = buildUsdtProbes(scratch);
    object = buildSource(scratch, `${testdata}/usdt.bpf.c`, 'bpfel', [], [`PROBES="${probes}"`]);
    spec = CollectionSpec.fromFile(object);
  });
  afterAll(() => scratch.dispose());

  const usdtMaps = (coll: Collection) => ({ specs: coll.maps.__bpf_usdt_specs as BpfMap, btf: spec.btf });
  /** Attaches `any_probe` to every probe, its slot in `seen` as the cookie. */
  const attachEvery = (coll: Collection): UsdtLink[] =>
    probeNames.map((name, cookie) =>
      attachUsdt(coll.programs.any_probe as never, {
        path: probes,
        provider: 'test',
        name,
        cookie,
        maps: usdtMaps(coll),
      }),
    );

  it.skipIf(skipUnsupported(noUprobes))(
    'reads register, memory and constant arguments of every size and sign, and raises the semaphore',
    () => {
      const before = openFdCount();
      {
        using coll = Collection.load(spec);
        const links = attachEvery(coll);
        expect(links[0]).toBeInstanceOf(UsdtLink);
        expect(links[0]?.sites).toHaveLength(1);
        expect(links[0]?.sites[0]?.link).toBeInstanceOf(UprobeLink);
        expect(links[3]?.sites[0]?.semaphoreOffset).toBeGreaterThan(0);
        expect(runProbes()).toBe(1);
        probeNames.forEach((name, slot) => {
          expect(seen(coll, slot), name).toEqual({
            count: expected[name]?.length,
            args: expected[name],
            hits: 1n,
          });
        });
        for (const link of links) link.close();
        // Detached: nothing fires, and the semaphore is down again.
        expect(runProbes()).toBe(0);
        expect(seen(coll, 0).hits).toBe(1n);
      }
      expect(openFdCount()).toBe(before);
    },
  );

  it.skipIf(skipUnsupported(noUprobes))(
    'reads what libbpf reads: the same object attached by bpf_program__attach_usdt',
    () => {
      const harness = scratch.path('usdt-libbpf');
      execFileSync('gcc', ['-O2', '-o', harness, `${testdata}/usdt-libbpf.c`, '-lbpf']);
      const libbpf = execFileSync(harness, [object, probes, ...probeNames], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => line.split(' ').map(BigInt));
      using coll = Collection.load(spec);
      const links = attachEvery(coll);
      runProbes();
      for (const link of links) link.close();
      const ours = probeNames.map((_, slot) => {
        const { count, hits } = seen(coll, slot);
        const value = coll.maps.seen?.get(new Uint8Array([slot, 0, 0, 0])) as Uint8Array;
        const view = new DataView(value.buffer, value.byteOffset);
        return [BigInt(slot), BigInt(count), ...[1, 2, 3, 4].map((i) => view.getBigInt64(i * 8, true)), hits];
      });
      expect(ours).toEqual(libbpf);
    },
  );

  it.skipIf(skipUnsupported(noUprobes))(
    'attaches from usdt/ and usdt.s/PATH:PROVIDER:NAME sections and coll.attach()',
    () => {
      const before = openFdCount();
      {
        using coll = Collection.load(spec);
        // The section-named program attaches; the bare `usdt` one is left for the caller.
        const links = coll.attachAll();
        expect(links).toHaveLength(2);
        for (const link of links) expect(link).toBeInstanceOf(UsdtLink);
        const error = thrown(() => coll.attach('any_probe'));
        expect(error).toBeInstanceOf(InvalidArgumentError);
        expect(error.message).toMatch(/section 'usdt'\) needs the 'usdt' option/);
        coll.attach('any_probe', { usdt: { path: probes, provider: 'test', name: 'constants' }, cookie: 2 });
        runProbes();
        expect(seen(coll, 7)).toEqual({ count: 3, args: expected.registers, hits: 1n });
        expect(seen(coll, 6)).toEqual({ count: 1, args: expected.guarded, hits: 1n });
        expect(seen(coll, 2)).toEqual({ count: 2, args: expected.constants, hits: 1n });
      }
      expect(openFdCount()).toBe(before);
    },
  );

  it.skipIf(skipUnsupported(noUprobes))('with a pid, fires for that process only', async () => {
    using coll = Collection.load(spec);
    const child = spawn(probes, { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    await once(child.stdout, 'data');
    const target = { path: probes, provider: 'test', name: 'registers', maps: usdtMaps(coll) };
    using _mine = attachUsdt(coll.programs.any_probe as never, { ...target, pid: process.pid, cookie: 1 });
    using _its = attachUsdt(coll.programs.any_probe as never, {
      ...target,
      pid: child.pid as number,
      cookie: 3,
    });
    child.stdin.end('go\n');
    await exited;
    expect(seen(coll, 1).hits).toBe(0n);
    expect(seen(coll, 3)).toEqual({ count: 3, args: expected.registers, hits: 1n });
  });

  it.skipIf(skipUnsupported(noUprobes))('probes a shared library found by its bare name', () => {
    const thrower = scratch.path('thrower');
    execFileSync('g++', ['-O2', '-o', thrower, '-x', 'c++', '-'], {
      input: 'int main() { try { throw 7; } catch (int) {} return 0; }\n',
    });
    using coll = Collection.load(spec);
    using link = attachUsdt(coll.programs.any_probe as never, {
      path: 'libstdc++.so.6',
      provider: 'libstdcxx',
      name: 'throw',
      cookie: 5,
      maps: usdtMaps(coll),
    });
    expect(link.target).toMatch(/^\/.*\/libstdc\+\+\.so\.6:libstdcxx:throw$/);
    execFileSync(thrower);
    // throw(object, type_info): two pointers.
    const { count, args, hits } = seen(coll, 5);
    expect({ count, hits }).toEqual({ count: 2, hits: 1n });
    for (const pointer of args) expect(pointer).toBeGreaterThan(0n);
  });

  it.skipIf(skipUnsupported(noUprobes))('takes spec ids from the map, and gives them back on close', () => {
    using coll = Collection.load(spec);
    using specs = BpfMap.create({
      type: 'array',
      keySize: 4,
      valueSize: 208,
      maxEntries: 1,
      name: 'one_spec',
    });
    const attach = () =>
      attachUsdt(coll.programs.any_probe as never, {
        path: probes,
        provider: 'test',
        name: 'stack',
        maps: { specs },
      });
    const first = attach();
    expect(() => attach()).toThrow(
      /all 1 entries of one_spec are in use; build the program with a larger BPF_USDT_MAX_SPEC_CNT/,
    );
    first.close();
    using _again = attach();
  });

  it('says what is wrong: no notes, no such probe, no such process, no spec map', () => {
    using coll = Collection.load(spec);
    const program = coll.programs.any_probe as never;
    const maps = usdtMaps(coll);
    const noNotes = thrown(() =>
      attachUsdt(program, { path: process.execPath, provider: 'test', name: 'x', maps }),
    );
    expect(noNotes).toBeInstanceOf(NotFoundError);
    expect(noNotes.message).toMatch(/has no USDT probes \(no .note.stapsdt section\)/);
    const noProbe = thrown(() => attachUsdt(program, { path: probes, provider: 'test', name: 'nope', maps }));
    expect(noProbe).toBeInstanceOf(NotFoundError);
    expect(noProbe.message).toContain(
      'has no USDT probe test:nope; it has test:stack, test:registers, test:constants, test:guarded',
    );
    const noProcess = thrown(() =>
      attachUsdt(program, { path: probes, provider: 'test', name: 'stack', pid: 0x3fffffff, maps }),
    );
    expect(noProcess).toBeInstanceOf(NotFoundError);
    expect(noProcess.message).toMatch(/there is no process 1073741823/);
    expect(() => attachUsdt(program, { path: probes, provider: 'test', name: 'stack' } as never)).toThrow(
      /needs maps.specs: the program's __bpf_usdt_specs map/,
    );
    expect(() =>
      attachUsdt(program, {
        path: probes,
        provider: 'test',
        name: 'stack',
        maps: { specs: coll.maps.seen as BpfMap },
      }),
    ).toThrow(/maps.specs must be usdt.bpf.h's __bpf_usdt_specs/);
    expect(() => attachUsdt(program, { path: probes, provider: 'te:st', name: 'stack', maps })).toThrow(
      /provider must be a non-empty name without ':'/,
    );
  });
});
