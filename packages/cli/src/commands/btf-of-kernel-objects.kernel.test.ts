import { execFileSync } from 'node:child_process';
import { Collection } from '@ebpf/core';
import { requireKernel } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.ts';
import type { MapDetails, MapEntry, ProgDetails } from '../kernel.ts';
import { runMain } from '../testing.ts';

async function json<T>(...argv: string[]): Promise<T> {
  const r = await runMain(...argv, '--json');
  expect(r.code, r.err).toBe(ExitCode.Ok);
  return JSON.parse(r.out) as T;
}

/** What bpftool decodes of a map: its `formatted` entries. */
function bpftoolFormatted(id: number): unknown[] {
  const out = execFileSync('bpftool', ['map', 'dump', 'id', String(id), '-j'], { encoding: 'utf8' });
  return (JSON.parse(out) as { formatted: unknown }[]).map((e) => e.formatted);
}

requireKernel('prog show, map show and map dump with BTF (kernel)', () => {
  const scratch = new Scratch();
  const coll = Collection.load(buildObject(scratch, 'btf-typed-maps', 'bpfel'));
  afterAll(() => {
    coll.close();
    scratch.dispose();
  });
  coll.programs.fill_typed_maps!.run({ data: new Uint8Array(64) });
  const idOf = (name: string) => String(coll.maps[name]!.info().id);

  it('map dump decodes keys and values by their BTF as bpftool does, in --json', async () => {
    for (const name of ['flows', 'per_cpu_totals', '.bss', '.rodata']) {
      const entries = await json<MapEntry[]>('map', 'dump', idOf(name));
      expect(
        entries.map((e) => e.formatted),
        name,
      ).toEqual(bpftoolFormatted(Number(idOf(name))));
    }
    const [flow] = await json<MapEntry[]>('map', 'dump', idOf('flows'));
    expect(flow!.formatted).toEqual({
      key: { addr: 0x0100007f, port: 8080, proto: 6 },
      value: {
        comm: 'curl',
        delta: -7,
        bytes: 2 ** 40,
        samples: [1, 2, 3],
        colour: 'GREEN',
        low: '0x5',
        high: '0x11',
        raw: { word: 0x04030201, octets: [1, 2, 3, 4] },
        last: { addr: 0x0200000a, port: 53, proto: 17 },
      },
    });
    expect(flow!.key).toBe('7f000001901f0600'); // the bytes stay beside
  });

  it('map dump prints decoded entries as text: one line when short, a member a line when long', async () => {
    const flows = await runMain('map', 'dump', idOf('flows'));
    expect(flows.out).toContain('key: {addr: 16777343, port: 8080, proto: 6}');
    expect(flows.out).toMatch(/^ {2}comm: "curl",$/m);
    expect(flows.out).toMatch(/^ {2}colour: "GREEN",$/m);
    const perCpu = await runMain('map', 'dump', idOf('per_cpu_totals'));
    // The test run ran on one CPU, whichever it was.
    expect(perCpu.out).toMatch(/^key: 1\n(?: {2}cpu \d: 0\n)* {2}cpu \d: -3\n/m);
    const bss = await runMain('map', 'dump', idOf('.bss'));
    expect(bss.out).toContain(`key: 00000000  value: {".bss": [{runs: ${'t'.charCodeAt(0)}}]}`);
  });

  it('map show names the BTF types of key and value', async () => {
    const flows = await json<MapDetails>('map', 'show', idOf('flows'));
    expect(flows).toMatchObject({ keyType: 'struct flow', valueType: 'struct stats' });
    expect(flows.btfKeyTypeId).toBeGreaterThan(0);
    const bss = await json<MapDetails>('map', 'show', idOf('.bss'));
    expect(bss).toMatchObject({ btfKeyTypeId: 0, valueType: '.bss' });
    expect(bss.keyType).toBeUndefined();
    const text = await runMain('map', 'show', idOf('flows'));
    expect(text.out).toMatch(/^key: +8 bytes \(struct flow, BTF type \d+\)$/m);
    const all = await json<MapDetails[]>('map', 'show');
    expect(all.find((m) => m.id === Number(idOf('flows')))).toEqual(flows);
  });

  it('prog show prints the C prototypes of its functions, from func_info and its BTF', async () => {
    const id = String(coll.programs.fill_typed_maps!.info().id);
    const prog = await json<ProgDetails>('prog', 'show', id);
    expect(prog.functions).toEqual([
      { insn: 0, name: 'fill_typed_maps', proto: 'int fill_typed_maps(struct xdp_md *ctx)' },
    ]);
    const bpftool = JSON.parse(
      execFileSync('bpftool', ['prog', 'show', 'id', id, '-j'], { encoding: 'utf8' }),
    );
    expect(prog.btfId).toBe(bpftool.btf_id);
    const text = await runMain('prog', 'show', id);
    expect(text.out).toMatch(/^functions: +int fill_typed_maps\(struct xdp_md \*ctx\) {2}; insn 0$/m);
    const all = await json<ProgDetails[]>('prog', 'show');
    expect(all.find((p) => p.id === prog.id)?.functions).toEqual(prog.functions);
  });

  it('prog show lists subprograms where they start, as bpftool dump xlated heads them', async () => {
    using subprograms = Collection.load(buildObject(scratch, 'programs-and-subprograms', 'bpfel'));
    const id = String(subprograms.programs.first_xdp!.info().id);
    const prog = await json<ProgDetails>('prog', 'show', id);
    expect(prog.functions.map((f) => f.proto)).toEqual([
      'int first_xdp(struct xdp_md *ctx)',
      'void bump(__u32 key)',
      'int add_three(int x)',
      'int double_it(int x)',
    ]);
    // bpftool writes `int first_xdp(struct xdp_md * ctx):` over the function's first instruction.
    const xlated = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', id], { encoding: 'utf8' });
    const heads = [...xlated.matchAll(/^(\S.*):\n(?:;.*\n)*\s*(\d+):/gm)].map((m) => ({
      insn: Number(m[2]),
      proto: m[1]!.replaceAll('* ', '*'),
    }));
    expect(prog.functions.map(({ insn, proto }) => ({ insn, proto }))).toEqual(heads);
    const text = await runMain('prog', 'show', id);
    expect(text.out).toMatch(
      /^functions: +int first_xdp\(struct xdp_md \*ctx\) {2}; insn 0\n {11,}void bump/m,
    );
  });
});
