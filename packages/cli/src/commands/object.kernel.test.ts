import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap, BpfProgram } from '@ebpf/core';
import { requireKernel, thrown } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.ts';
import type { LoadedObject } from '../kernel-object.ts';
import { runMain } from '../testing.ts';

async function load(...argv: string[]): Promise<LoadedObject> {
  const r = await runMain('object', 'load', ...argv, '--json');
  expect(r.code, r.out).toBe(ExitCode.Ok);
  return JSON.parse(r.out) as LoadedObject;
}

requireKernel('ebpf object load (kernel)', () => {
  const scratch = new Scratch();
  const pins = mkdtempSync('/sys/fs/bpf/ebpf-cli-object-');
  afterAll(() => {
    scratch.dispose();
    rmSync(pins, { recursive: true, force: true });
  });
  const globals = buildObject(scratch, 'globals-of-every-section', 'bpfel');

  it('without --pin, loads every program and map and closes them again', async () => {
    const loaded = await load(globals);
    expect(loaded.programs).toEqual([{ name: 'reads_globals', id: expect.any(Number), type: 'xdp' }]);
    expect(loaded.maps.map((m) => m.name)).toContain('.rodata');
    expect(thrown(() => BpfProgram.fromId(loaded.programs[0]!.id)).name).toBe('NotFoundError');
    const text = await runMain('object', 'load', globals);
    expect(text.out).toMatch(/^program +reads_globals +\d+ +xdp +-$/m);
    expect(text.out).toContain('nothing stays in the kernel');
  });

  it('with --pin, pins programs and maps there; a by-name map is reused by the next load', async () => {
    const dir = join(pins, 'globals');
    const loaded = await load(globals, '--pin', dir);
    const [program] = loaded.programs;
    expect(program!.pin).toBe(join(dir, 'reads_globals'));
    using pinned = BpfProgram.fromPin(program!.pin!);
    expect(pinned.info().id).toBe(program!.id);
    const rodata = loaded.maps.find((m) => m.name === '.rodata')!;
    expect(rodata.pin).toBe(join(dir, 'maps', '_rodata'));
    using map = BpfMap.fromPin(rodata.pin!);
    expect(map.info().id).toBe(rodata.id);
  });

  it('pins a LIBBPF_PIN_BY_NAME map where the others go; loading into a full folder says what is there', async () => {
    const maps = buildObject(scratch, 'maps-of-every-kind', 'bpfel');
    const dir = join(pins, 'maps');
    const loaded = await load(maps, '--pin', dir);
    const lru = loaded.maps.find((m) => m.name === 'recent_lru')!;
    expect(lru.pin).toBe(join(dir, 'maps', 'recent_lru'));
    using map = BpfMap.fromPin(lru.pin!);
    expect(map.info().id).toBe(lru.id);
    const again = await runMain('object', 'load', maps, '--pin', dir);
    expect(again.code).toBe(ExitCode.Failure);
    expect(again.err).toMatch(/already pinned there \(EEXIST\); unpin it first/);
    using kept = BpfProgram.fromPin(join(dir, 'uses_every_map')); // the first load's pins stay
    expect(kept.info().id).toBe(loaded.programs.find((p) => p.name === 'uses_every_map')!.id);
  });

  it('a program the verifier refuses fails the load (exit 4) and leaves no pin', async () => {
    const dir = join(pins, 'rejected');
    const r = await runMain(
      'object',
      'load',
      buildObject(scratch, 'verifier-rejects', 'bpfel'),
      '--pin',
      dir,
    );
    expect(r.code).toBe(ExitCode.Rejected);
    expect(r.err).toMatch(/program reads_unchecked .*verifier rejected/);
    expect(readdirSync(dir)).toEqual(['maps']);
    expect(readdirSync(join(dir, 'maps'))).toEqual([]);
  });
});
