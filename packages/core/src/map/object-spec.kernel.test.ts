import { requireKernel, thrown } from '@ebpf/test-utils';
import { MapFlags } from '@ebpf/uapi';
import { expect, it } from 'vitest';
import { mapSpec as objectSpec } from '../collection/specs.fixtures.ts';
import { InvalidArgumentError } from '../errors.ts';
import { possibleCpus } from '../system.ts';
import { BpfMap } from './map.ts';

requireKernel('BpfMap.create from an object MapSpec (kernel)', () => {
  it('creates global data with its bytes, and read-only data frozen and read-only for programs', () => {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    using rodata = BpfMap.create(
      objectSpec({
        name: '.rodata',
        kernelName: 'obj.rodata',
        type: 'array',
        valueSize: 8,
        // What @ebpf/object gives .rodata; read-only for programs is added because it is readOnly.
        flags: MapFlags.Mmapable,
        data,
        readOnly: true,
      }),
    );
    expect(rodata.name).toBe('obj.rodata');
    expect(rodata.flags & (MapFlags.Mmapable | MapFlags.RdonlyProg)).toBe(
      MapFlags.Mmapable | MapFlags.RdonlyProg,
    );
    expect(rodata.get(new Uint8Array(4))).toEqual(data);
    // Frozen: the kernel refuses writes from user space.
    expect(() => rodata.update(new Uint8Array(4), data)).toThrow();

    using bss = BpfMap.create(
      objectSpec({
        name: '.bss',
        type: 'array',
        valueSize: 8,
        flags: MapFlags.Mmapable,
        data: new Uint8Array(8),
      }),
    );
    expect(bss.flags & MapFlags.Mmapable).toBe(MapFlags.Mmapable);
    expect(bss.memory().u8.subarray(0, 8)).toEqual(new Uint8Array(8));
  });

  it('writes raw contents, and gives a perf event array with 0 entries one slot per possible CPU', () => {
    const key = new Uint8Array([7, 0, 0, 0]);
    const value = new Uint8Array([9, 0, 0, 0]);
    using hash = BpfMap.create(
      objectSpec({ name: 'h', type: 'hash', maxEntries: 4, contents: [{ key, value }] }),
    );
    expect(hash.get(key)).toEqual(value);
    using events = BpfMap.create(objectSpec({ name: 'events', type: 'perf_event_array', maxEntries: 0 }));
    expect(events.maxEntries).toBe(possibleCpus());
  });

  it('creates a map of maps from its inner template', () => {
    const inner = objectSpec({ name: 'inner', type: 'array', maxEntries: 2 });
    using outer = BpfMap.create(
      objectSpec({ name: 'outer', type: 'array_of_maps', maxEntries: 2, innerMap: inner }),
    );
    expect(outer.typeName).toBe('array_of_maps');
  });

  it('refuses global data whose bytes do not fill the value, without leaving the map open', () => {
    const error = thrown(() =>
      BpfMap.create(objectSpec({ name: '.data', type: 'array', valueSize: 8, data: new Uint8Array(3) })),
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(/\.data: its data is 3 bytes but its value is 8/);
  });
});
