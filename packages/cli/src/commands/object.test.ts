import { execFileSync } from 'node:child_process';
import { buildObject, readelf, requireTools, Scratch, vmlinuxHeader } from '@ebpf/test-utils/clang';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.ts';
import type { ObjectSummary } from '../object-summary.ts';
import { runMain } from '../testing.ts';

requireTools();
const scratch = new Scratch();
afterAll(() => scratch.dispose());

async function show(path: string, ...flags: string[]): Promise<ObjectSummary> {
  const r = await runMain('object', 'show', path, '--json', ...flags);
  expect(r.code, r.out).toBe(ExitCode.Ok);
  return JSON.parse(r.out) as ObjectSummary;
}

/** Function symbol sizes in bytes, as llvm-readelf lists them. */
function functionSizes(path: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const m of readelf(path, '-s').matchAll(/^\s*\d+: [0-9a-f]+\s+(\d+) FUNC\s+\S+\s+\S+\s+\d+ (\S+)$/gm))
    sizes[m[2]!] = Number(m[1]);
  return sizes;
}

describe('ebpf object show (clang-16 objects)', () => {
  const maps = buildObject(scratch, 'maps-of-every-kind', 'bpfel');

  it('lists programs with section, type and size (readelf’s symbol sizes), and maps with their BTF types', async () => {
    const s = await show(maps);
    expect(s).toMatchObject({ name: 'maps-of-every-kind', byteOrder: 'little' });
    const sizes = functionSizes(maps);
    expect(s.programs.map((p) => [p.name, p.section, p.type, p.size])).toEqual(
      Object.entries(sizes).map(([name, size]) => [name, 'socket', 'socket_filter', size]),
    );
    expect(s.maps.find((m) => m.name === 'by_pair')).toMatchObject({
      type: 'hash',
      keySize: 8,
      keyType: 'struct pair',
      valueType: '__u64',
      maxEntries: 128,
    });
    expect(s.maps.find((m) => m.name === 'recent_lru')?.pinning).toBe('by_name');
    expect(s.maps.find((m) => m.name === 'outer_array')?.innerMap).toMatchObject({ type: 'array' });
    expect(s.btf?.types).toBeGreaterThan(0);
    expect(s.relocations).toBeUndefined();
  });

  it('with --relocs, names the map each instruction loads', async () => {
    const s = await show(maps, '--relocs');
    const used = s.relocations!.filter((r) => r.program === 'uses_every_map');
    expect(used.every((r) => r.kind === 'map')).toBe(true);
    // Every map the C names once, by R_BPF_64_64 relocations of its section.
    const relocated = [...readelf(maps, '-r').matchAll(/R_BPF_64_64\s+[0-9a-f]+\s+(\w+)/g)].map((m) => m[1]);
    expect(used.map((r) => r.target).sort()).toEqual(relocated.sort());
  });

  it('lists global variables and the value offsets instructions load from', async () => {
    const s = await show(buildObject(scratch, 'globals-of-every-section', 'bpfeb'), '--relocs');
    expect(s.byteOrder).toBe('big');
    expect(s.variables).toContainEqual({
      name: 'offset_by',
      section: '.rodata',
      offset: 4,
      size: 2,
      type: 'const volatile __s16',
    });
    expect(s.variables).toContainEqual({
      name: 'static_bss',
      section: '.bss',
      offset: 8,
      size: 8,
      type: '__u64',
    });
    expect(s.relocations).toContainEqual(
      expect.objectContaining({ kind: 'map_value', target: '.bss', offset: 8 }),
    );
  });

  it('lists externs, kfunc calls and CO-RE relocations by kind, type and access string', async () => {
    const externs = await show(buildObject(scratch, 'externs-kconfig-ksym', 'bpfel'), '--relocs');
    expect(externs.externs).toContainEqual({ name: 'CONFIG_HZ', kind: 'kconfig', weak: true, type: 'int' });
    expect(externs.relocations).toContainEqual(
      expect.objectContaining({ kind: 'kfunc', target: 'bpf_rcu_read_lock' }),
    );
    const core = await show(
      buildObject(scratch, 'core-basics', 'bpfel', [vmlinuxHeader(scratch)]),
      '--relocs',
    );
    expect(core.relocations).toContainEqual(
      expect.objectContaining({
        kind: 'core',
        coreKind: 'field_byte_offset',
        target: 'struct task_struct___flavour',
      }),
    );
    const text = await runMain('object', 'show', scratch.path('core-basics.bpfel.o'), '--relocs');
    expect(text.out).toMatch(/^RELOCATIONS$/m);
    expect(text.out).toMatch(/\bfield_byte_offset\s+struct task_struct___flavour 0:\d/);
  }, 60_000);

  it('says why a program will not load, in its row', async () => {
    const r = await runMain('object', 'show', buildObject(scratch, 'per-program-problems', 'bpfel'));
    expect(r.code, r.err).toBe(ExitCode.Ok);
    expect(r.out).toMatch(/^in_unknown_section .*is not a program section libbpf knows/m);
    expect(r.out).toMatch(/^good_program +xdp +xdp .* - *$/m);
  });

  it('refuses what is not a BPF object, naming the file; a missing file is exit 3', async () => {
    const host = scratch.path('host.o');
    execFileSync('clang-16', ['-c', '-x', 'c', '-', '-o', host], { input: 'int f(void) { return 0; }\n' });
    const r = await runMain('object', 'show', host, '--json');
    expect(r.code).toBe(ExitCode.Failure);
    expect(JSON.parse(r.out).error.message).toMatch(/host\.o: .*not a BPF relocatable object/);
    expect((await runMain('object', 'show', scratch.path('nope.o'))).code).toBe(ExitCode.NotFound);
  });
});
