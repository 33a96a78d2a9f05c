import { mkdtempSync, rmSync } from 'node:fs';
import {
  call,
  exit,
  type Instruction,
  ldMapFd,
  ldMapValue,
  ldxw,
  link,
  mov64,
  R0,
  R1,
  R2,
  R3,
} from '@ebpf/asm';
import { Int } from '@ebpf/btf';
import type { MapSpec } from '@ebpf/object';
import { openFdCount, requireKernel, skipUnsupported, thrown } from '@ebpf/test-utils';
import { countingProgram } from '@ebpf/test-utils/programs';
import { MapFlags } from '@ebpf/uapi';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { BpfMap } from '../map/map.ts';
import { VerifierError } from '../program/verifier-error.ts';
import { lockdownMode } from '../system.ts';
import { Collection, type CollectionSpecLike } from './index.ts';
import { mapSpec as map, programSpec as program, variableSpec } from './specs.fixtures.ts';

const variable = (name: string, section: string, offset: number) =>
  variableSpec(name, section, offset, u32, 4);

const u32 = new Int(1, 'unsigned int', 4, 0, 0, 32);

/** `return *(u32 *)(section + offset)`. */
const returnGlobal = (section: string, offset: number): Instruction[] => [
  ldMapValue(R1, section, offset),
  ldxw(R0, R1, 0),
  exit(),
];

/** `bpf_tail_call(ctx, &jumps, 0); return 1`. */
const tailCall: Instruction[] = [ldMapFd(R2, 'jumps'), mov64(R3, 0), call('tail_call'), mov64(R0, 1), exit()];

/** An object like the one clang makes of a program with a counter map, globals and a tail call. */
function testSpec(): CollectionSpecLike {
  return {
    name: 'test',
    maps: {
      counts: map({ name: 'counts', type: 'array', valueSize: 8 }),
      jumps: map({ name: 'jumps', type: 'prog_array', contents: [{ key: 0, program: 'tail' }] }),
      '.data': map({
        name: '.data',
        type: 'array',
        valueSize: 8,
        flags: MapFlags.Mmapable,
        data: new Uint8Array([5, 0, 0, 0, 6, 0, 0, 0]),
      }),
      '.rodata': map({
        name: '.rodata',
        type: 'array',
        flags: MapFlags.Mmapable,
        data: new Uint8Array([2, 0, 0, 0]),
        readOnly: true,
      }),
    },
    programs: {
      count: program('count', link(countingProgram(2)).instructions),
      read_data: program('read_data', returnGlobal('.data', 4)),
      read_rodata: program('read_rodata', returnGlobal('.rodata', 0)),
      jump: program('jump', tailCall),
      tail: program('tail', [mov64(R0, 3), exit()]),
      later: program('later', [mov64(R0, 0), exit()], { autoload: false }),
    },
    variables: {
      first: variable('first', '.data', 0),
      second: variable('second', '.data', 4),
      verdict: variable('verdict', '.rodata', 0),
    },
  };
}

const packet = new Uint8Array(64);

requireKernel('Collection.load (kernel)', () => {
  it('creates maps, loads programs against them and fills prog arrays', () => {
    using coll = Collection.load(testSpec());
    expect(Object.keys(coll.programs).sort()).toEqual(['count', 'jump', 'read_data', 'read_rodata', 'tail']);
    expect(coll.programs.count?.run({ data: packet }).retval).toBe(2);
    expect(coll.maps.counts?.get(new Uint8Array(4))).toEqual(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));
    expect(coll.programs.read_rodata?.run({ data: packet }).retval).toBe(2);
    // The tail call lands in `tail` (3) instead of falling through (1).
    expect(coll.programs.jump?.run({ data: packet }).retval).toBe(3);
    expect(coll.maps['.rodata']?.name).toBe('test.rodata');
  });

  it('reads and writes variables where the programs see them; frozen ones refuse writes', () => {
    using coll = Collection.load(testSpec());
    const { first, second, verdict } = coll.variables;
    expect([first?.get(), second?.get(), verdict?.get()]).toEqual([5, 6, 2]);
    second?.set(41);
    expect(coll.programs.read_data?.run({ data: packet }).retval).toBe(41);
    expect(() => second?.set(-1)).toThrow(/does not fit an unsigned 32-bit integer/);
    expect(thrown(() => verdict?.set(3))).toBeInstanceOf(InvalidArgumentError);
    expect(verdict?.readOnly).toBe(true);
  });

  it('uses replacement maps (left open on close) and loads programs the object leaves out on request', () => {
    using shared = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    {
      using coll = Collection.load(testSpec(), {
        maps: { counts: shared },
        programs: { later: { load: true }, jump: { load: false } },
      });
      expect(coll.maps.counts).toBe(shared);
      coll.programs.count?.run({ data: packet });
      expect(Object.keys(coll.programs)).toContain('later');
      expect(Object.keys(coll.programs)).not.toContain('jump');
    }
    expect(shared.closed).toBe(false);
    expect(shared.get(new Uint8Array(4))).toEqual(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]));

    using wrong = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
    const error = thrown(() => Collection.load(testSpec(), { maps: { counts: wrong } }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(
      /options\.maps\.counts does not match map counts.*type hash, not array.*valueSize 4, not 8/,
    );
    expect(() => Collection.load(testSpec(), { maps: { nope: shared } })).toThrow(/has no map nope/);
  });

  describe('pinning by name', () => {
    const dir = mkdtempSync('/sys/fs/bpf/coll-');
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('pins a by-name map under pinPath and reuses it on the next load', () => {
      const spec = testSpec();
      const pinnedSpec: CollectionSpecLike = {
        ...spec,
        maps: { ...spec.maps, counts: { ...(spec.maps.counts as MapSpec), pinning: 'by_name' } },
      };
      const first = Collection.load(pinnedSpec, { pinPath: dir });
      first.programs.count?.run({ data: packet });
      const id = first.maps.counts?.info().id;
      first.close();
      using second = Collection.load(pinnedSpec, { pinPath: dir });
      expect(second.maps.counts?.info().id).toBe(id);
      expect(second.maps.counts?.get(new Uint8Array(4))?.[0]).toBe(1);
      second.maps.counts?.unpin();
    });
  });

  describe('failures', () => {
    it('throws the verifier error naming object, program and section, leaving nothing open', () => {
      const spec = testSpec();
      const before = openFdCount();
      const bad: CollectionSpecLike = {
        ...spec,
        programs: { ...spec.programs, bad: program('bad', [mov64(R0, R2), exit()]) },
      };
      const error = thrown(() => Collection.load(bad));
      expect(error).toBeInstanceOf(VerifierError);
      expect(error.message).toMatch(/^object test: program bad \(section xdp\): /);
      expect(openFdCount()).toBe(before);
    });

    it.skipIf(
      skipUnsupported(
        lockdownMode() === 'none' ? 'fentry: this test expects lockdown to refuse it' : undefined,
      ),
    )('throws NotSupportedError for fentry under lockdown, naming the program', () => {
      const spec = testSpec();
      const fentry = program('on_unlink', [mov64(R0, 0), exit()], {
        section: 'fentry/do_unlinkat',
        type: 'tracing',
        attachType: 'trace_fentry',
        attachTo: 'do_unlinkat',
      });
      const before = openFdCount();
      const error = thrown(() =>
        Collection.load({ ...spec, programs: { ...spec.programs, on_unlink: fentry } }),
      );
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toMatch(/program on_unlink \(section fentry\/do_unlinkat\).*lockdown/);
      expect(openFdCount()).toBe(before);
    });
  });
});
