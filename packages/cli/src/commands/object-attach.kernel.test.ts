import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Link } from '@ebpf/core';
import { requireKernel, thrown, VethPair } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.ts';
import type { MapEntry } from '../kernel.ts';
import type { LoadedObject } from '../kernel-object.ts';
import { runMain } from '../testing.ts';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The link's id, while it exists. */
const linkAlive = (id: number): boolean => {
  try {
    Link.fromId(id).close();
    return true;
  } catch (error) {
    if ((error as Error).name === 'NotFoundError') return false;
    throw error;
  }
};

async function until(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
  return done();
}

/** The hits the auto-attach object's globals count, read by `ebpf map dump` through its BTF. */
async function hits(bssId: number): Promise<Record<string, number>> {
  const r = await runMain('map', 'dump', String(bssId), '--json');
  const [entry] = JSON.parse(r.out) as MapEntry[];
  const vars = (entry!.formatted!.value as Record<string, Record<string, number>[]>)['.bss']!;
  return Object.assign({}, ...vars);
}

requireKernel('ebpf object load --attach (kernel)', () => {
  const scratch = new Scratch();
  const pins = mkdtempSync('/sys/fs/bpf/ebpf-cli-attach-');
  const veth = new VethPair('cliat');
  afterAll(() => {
    veth.remove();
    scratch.dispose();
    rmSync(pins, { recursive: true, force: true });
  });
  const object = buildObject(scratch, 'auto-attach', 'bpfel');

  it('says which option a section needs before loading anything (exit 2)', async () => {
    const r = await runMain('object', 'load', object, '--attach');
    expect(r.code).toBe(ExitCode.Usage);
    expect(r.err).toMatch(/program pass \(section 'xdp'\) needs the 'interface' option/);
    expect(r.err).toContain('add --iface NAME');
    const without = await runMain('object', 'load', object, '--iface', 'lo');
    expect(without.code).toBe(ExitCode.Usage);
    expect(without.err).toContain('add --attach');
  });

  it('with --pin, pins a link per program its section places; they stay attached and count', async () => {
    const dir = join(pins, 'pinned');
    const r = await runMain('object', 'load', object, '--attach', '--iface', veth.b, '--pin', dir, '--json');
    expect(r.code, r.err).toBe(ExitCode.Ok);
    const loaded = JSON.parse(r.out) as LoadedObject;
    const programId = (name: string) => loaded.programs.find((p) => p.name === name)!.id;
    expect(loaded.links!.map((l) => [l.name, l.type, l.pin]).sort()).toEqual([
      ['on_getppid', 'perf_event', join(dir, 'links', 'on_getppid')],
      ['on_sys_enter', 'raw_tracepoint', join(dir, 'links', 'on_sys_enter')],
      ['pass', 'xdp', join(dir, 'links', 'pass')],
    ]);
    for (const link of loaded.links!) {
      using pinned = Link.fromPin(link.pin!);
      expect(pinned.info().progId).toBe(programId(link.name));
    }
    const bss = loaded.maps.find((m) => m.name === '.bss')!.id;
    const before = await hits(bss);
    for (let i = 0; i < 5; i++) expect(process.ppid).toBeGreaterThan(0); // getppid(2), each time
    const after = await hits(bss);
    expect(after.tracepoint_hits! - before.tracepoint_hits!).toBeGreaterThanOrEqual(5);
    expect(after.raw_tracepoint_hits).toBeGreaterThan(before.raw_tracepoint_hits!);
    rmSync(dir, { recursive: true });
    expect(await until(() => loaded.links!.every((l) => !linkAlive(l.id)))).toBe(true);
  });

  it('without --pin, holds the links until Ctrl-C, then detaches and exits 0', async () => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@ebpf/source',
        '--import',
        'tsx',
        'src/bin.ts',
        'object',
        'load',
        object,
        '--attach',
        '--iface',
        veth.b,
        '--json',
      ],
      { cwd: packageDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      for (let i = 0; i < 300 && !out.endsWith('}\n'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out, err).toMatch(/}\n$/);
      const loaded = JSON.parse(out) as LoadedObject;
      expect(loaded.links!.map((l) => l.name).sort()).toEqual(['on_getppid', 'on_sys_enter', 'pass']);
      expect(loaded.links!.every((l) => l.pin === undefined && linkAlive(l.id))).toBe(true);
      child.kill('SIGINT');
      expect(await exited, err).toBe(ExitCode.Ok);
      expect(await until(() => loaded.links!.every((l) => !linkAlive(l.id)))).toBe(true);
      expect(thrown(() => Link.fromId(loaded.links![0]!.id)).name).toBe('NotFoundError');
    } finally {
      child.kill('SIGKILL'); // a no-op once it exited; else it would hold the links past the test
    }
  });
});
