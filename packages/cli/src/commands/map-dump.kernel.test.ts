import { execFileSync } from 'node:child_process';
import { BpfMap, Collection } from '@ebpf/core';
import { requireKernel } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { main } from '../main.ts';
import { memoryIo } from '../testing.ts';

async function ebpf(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

requireKernel('ebpf map dump of a queue, stack, bloom filter or ring buffer (kernel)', () => {
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());

  it.each([
    ['queue', 1],
    ['stack', 2],
  ] as const)(
    'shows the head of a %s without taking it, and says the rest cannot be shown',
    async (type, head) => {
      using map = BpfMap.create({ type, valueSize: 4, maxEntries: 4 });
      map.push(new Uint8Array([1, 0, 0, 0]));
      map.push(new Uint8Array([2, 0, 0, 0]));
      const id = String(map.info().id);
      const text = await ebpf('map', 'dump', id);
      expect(text.code, text.err).toBe(0);
      expect(text.out).toContain(`head: 0${head}000000`);
      expect(text.out).toMatch(/cannot be shown without taking them out/);
      const json = await ebpf('map', 'dump', id, '--json');
      expect(JSON.parse(json.out)).toEqual({
        type,
        head: { value: `0${head}000000` },
        note: expect.stringMatching(/cannot be shown/),
      });
      expect([...(map.pop() as Uint8Array)]).toEqual([head, 0, 0, 0]); // still there
    },
  );

  it('says an empty queue is empty', async () => {
    using map = BpfMap.create({ type: 'queue', valueSize: 4, maxEntries: 4 });
    const { code, out } = await ebpf('map', 'dump', String(map.info().id));
    expect(code).toBe(0);
    expect(out).toContain('(empty queue)');
  });

  it.each([
    ['bloom_filter', { keySize: 0, valueSize: 4 }, /only answers whether a value may have been added/],
    ['ringbuf', { keySize: 0, valueSize: 0, maxEntries: 4096 }, /a stream of records, not a table/],
  ] as const)('says a %s has no entries to list (exit 0)', async (type, sizes, note) => {
    using map = BpfMap.create({ type, maxEntries: 4, ...sizes });
    const id = String(map.info().id);
    const text = await ebpf('map', 'dump', id);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(note);
    expect(JSON.parse((await ebpf('map', 'dump', id, '--json')).out)).toMatchObject({ type });
  });

  it('decodes the head of a queue and a stack by the value type of the program that uses them', async () => {
    using coll = Collection.load(buildObject(scratch, 'btf-typed-queues', 'bpfel'));
    coll.programs.fill_queues!.run({ data: new Uint8Array(64) });
    const idOf = (name: string) => String(coll.maps[name]!.info().id);
    const bpftool = (...args: string[]) =>
      JSON.parse(execFileSync('bpftool', ['-j', 'map', ...args], { encoding: 'utf8' }));
    // bpftool cannot dump a queue; it peeks its bytes, and decodes the same job in a map with BTF.
    const [typedJob] = bpftool('dump', 'id', idOf('jobs_by_id'));
    const peeked: string[] = bpftool('peek', 'id', idOf('jobs')).value;
    const dump = JSON.parse((await ebpf('map', 'dump', idOf('jobs'), '--json')).out);
    expect(dump.head).toEqual({
      value: peeked.map((byte) => byte.slice(2)).join(''),
      formatted: { value: typedJob.formatted.value },
    });
    expect(dump.head.formatted.value).toEqual({ name: 'build', id: 7, state: 'BUSY', due: -5 });
    const text = await ebpf('map', 'dump', idOf('jobs'));
    expect(text.out).toContain('head: {name: "build", id: 7, state: "BUSY", due: -5}');
    expect((await ebpf('map', 'dump', idOf('depths'))).out).toMatch(/^head: -2$/m);
    expect(coll.maps.jobs!.pop()).toBeDefined(); // peeked, not taken
  });
});
