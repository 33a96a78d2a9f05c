import { add64, call, exit, jeq, label, ldxdw, mov64, R0, R1, R2, R3, R10, sth } from '@ebpf/asm';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/program.ts';
import { Link } from './index.ts';
import { attachIter, IterLink } from './iter.ts';

/**
 * Writes "x\n" for every object the iterator visits: the context's pointer at `offset` (the
 * object: task, map, socket, ksym; the key of a map element) is NULL on the final call.
 */
function onePerObject(offset: number) {
  return [
    ldxdw(R2, R1, offset),
    jeq(R2, 0, 'out'),
    ldxdw(R1, R1, 0), // ctx->meta
    ldxdw(R1, R1, 0), // meta->seq
    sth(R10, -8, 0x0a78), // "x\n"
    mov64(R2, R10),
    add64(R2, -8),
    mov64(R3, 2),
    call('seq_write'),
    label('out'),
    mov64(R0, 0),
    exit(),
  ];
}

function loadIter(target: string, offset = 8): BpfProgram {
  return BpfProgram.load({
    type: 'tracing',
    attachType: 'trace_iter',
    attachTo: `bpf_iter_${target}`,
    instructions: onePerObject(offset),
    license: 'GPL',
  });
}

/**
 * Why this kernel cannot load map element iterators, or undefined. On 6.18 with lockdown the
 * load fails with EPERM before the verifier checks any instruction, for every iterator whose
 * context carries map-element buffers (bpf_map_elem, bpf_sk_storage_map, sockmap), even one that
 * only returns 0, while bpf_map and task iterators load; libbpf loading a clang
 * SEC("iter/bpf_map_elem") program is refused the same way, so the refusal is the kernel's.
 */
function mapElemRefused(): string | undefined {
  try {
    loadIter('bpf_map_elem', 16).close();
    return undefined;
  } catch (error) {
    if (error instanceof NotSupportedError) return error.message;
    throw error;
  }
}

const lines = (output: Buffer) => output.toString().split('\n').length - 1;

requireKernel('attachIter', () => {
  it('walks every task, and again on every open()', async () => {
    using prog = loadIter('task');
    using link = attachIter(prog);
    expect(link).toBeInstanceOf(IterLink);
    expect(lines(link.read())).toBeGreaterThan(10);
    let streamed = '';
    for await (const chunk of link.open()) streamed += chunk;
    expect(streamed.split('\n').length - 1).toBeGreaterThan(10);
    expect(link.info()).toMatchObject({ iterTarget: 'task', target: 'iter task' });
    using again = Link.fromId(link.id);
    expect(again).toBeInstanceOf(IterLink);
  });

  it('walks only one process with task: { pid }', () => {
    using prog = loadIter('task');
    using link = attachIter(prog, { task: { pid: process.pid } });
    // Every thread of this process: Node has a handful.
    const n = lines(link.read());
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(64);
    expect(link.info()).toMatchObject({ pid: process.pid });
  });

  it('walks the maps and programs of the system, ours among them', () => {
    using map = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 1 });
    using maps = loadIter('bpf_map');
    using mapsLink = attachIter(maps);
    expect(lines(mapsLink.read())).toBeGreaterThanOrEqual(1);
    using progs = loadIter('bpf_prog');
    using progsLink = attachIter(progs);
    // At least the two iterator programs this test holds.
    expect(lines(progsLink.read())).toBeGreaterThanOrEqual(2);
    expect(map.id).toBeGreaterThan(0);
  });

  const elemRefused = mapElemRefused();

  it.runIf(elemRefused !== undefined)('names the refusal of map element iterators', () => {
    for (const target of ['bpf_map_elem', 'bpf_sk_storage_map', 'sockmap']) {
      const load = () =>
        BpfProgram.load({
          type: 'tracing',
          attachType: 'trace_iter',
          attachTo: `bpf_iter_${target}`,
          instructions: [mov64(R0, 0), exit()],
          license: 'GPL',
        });
      expect(load, target).toThrow(NotSupportedError);
      expect(load, target).toThrow(
        new RegExp(
          `^iterator ${target} is not supported by this kernel: refused with EPERM before any instruction was verified`,
        ),
      );
    }
  });

  it.skipIf(skipUnsupported(elemRefused, 'bpf_map_elem_iter'))('walks the elements of one map', () => {
    using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 8 });
    for (const k of [1, 2, 3]) map.set(k, k);
    using elems = loadIter('bpf_map_elem', 16); // the key
    using link = attachIter(elems, { map });
    expect(lines(link.read())).toBe(3);
    expect(link.info()).toMatchObject({ iterTarget: 'bpf_map_elem', mapId: map.id });
  });

  it('walks sockets (tcp, udp, unix) and kernel symbols', () => {
    for (const target of ['tcp', 'udp', 'unix', 'ksym']) {
      using prog = loadIter(target);
      using link = attachIter(prog);
      const n = lines(link.read());
      if (target === 'ksym') expect(n, target).toBeGreaterThan(1000);
      else expect(n, target).toBeGreaterThanOrEqual(0);
    }
  });

  it('checks its arguments', () => {
    using prog = loadIter('task');
    expect(() => attachIter(prog, { task: {} })).toThrow(/one of tid, pid or pidFd/);
    expect(() => attachIter(prog, { task: { pid: 1 }, map: { fd: 3 } })).toThrow(
      /not task and map|not map and task/,
    );
    expect(() => attachIter(prog, { map: { fd: -1 } })).toThrow(InvalidArgumentError);
  });
});
