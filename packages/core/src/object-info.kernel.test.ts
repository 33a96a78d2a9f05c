import * as sys from '@ebpf/sys';
import { requireKernel } from '@ebpf/test-utils';
import { MapType } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from './errors.ts';
import { BpfMap } from './map/index.ts';
import { btfInfo, fdFromId, mapInfo, objectIds, readObjectInfo } from './object-info.ts';

requireKernel('object ids and info (kernel)', () => {
  describe('objectIds', () => {
    it('lists maps, including a new one, in increasing order', () => {
      using map = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
      const ids = [...objectIds('map')];
      expect(ids).toContain(map.info().id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    });

    it('lists BTF objects (vmlinux is one), programs and links without error', () => {
      expect([...objectIds('btf')].length).toBeGreaterThan(0);
      expect(Array.isArray([...objectIds('prog')])).toBe(true);
      expect(Array.isArray([...objectIds('link')])).toBe(true);
    });

    it('rejects unknown kinds', () => {
      expect(() => [...objectIds('widget' as 'map')]).toThrow(InvalidArgumentError);
    });
  });

  describe('fdFromId and info', () => {
    it('opens a map by id and reads bpf_map_info', () => {
      using map = BpfMap.create({
        type: 'percpu_hash',
        keySize: 8,
        valueSize: 16,
        maxEntries: 3,
        name: 'by_id',
      });
      const id = map.info().id;
      const fd = fdFromId('map', id);
      try {
        const info = mapInfo(fd);
        expect(info).toMatchObject({
          type: MapType.PercpuHash,
          id,
          keySize: 8,
          valueSize: 16,
          maxEntries: 3,
          name: 'by_id',
          mapExtra: 0n,
        });
        expect(info.raw.keySize).toBe(8);
      } finally {
        sys.close(fd);
      }
    });

    it('reads bpf_btf_info with its name (vmlinux BTF)', () => {
      const vmlinux = [...objectIds('btf')]
        .map((id) => {
          const fd = fdFromId('btf', id);
          try {
            return btfInfo(fd);
          } finally {
            sys.close(fd);
          }
        })
        .find((info) => info.name === 'vmlinux');
      expect(vmlinux).toBeDefined();
      expect(vmlinux!.kernelBtf).toBe(true);
      expect(vmlinux!.size).toBeGreaterThan(1000);
    });

    it('errors: missing ids, bad ids, unknown fields', () => {
      expect(() => fdFromId('map', 0x7ffffff0)).toThrow(NotFoundError);
      expect(() => fdFromId('map', 0)).toThrow(InvalidArgumentError);
      expect(() => fdFromId('prog', 1.5)).toThrow(InvalidArgumentError);
      using map = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(() => readObjectInfo(map.fd, 'map', { noSuchField: 1 })).toThrow(/has no field 'noSuchField'/);
    });
  });
});
