import { existsSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as sys from '@ebpf/sys';
import { requireKernel } from '@ebpf/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { BpfError, InvalidArgumentError, NotFoundError } from './errors.ts';
import { BpfMap } from './map/index.ts';
import {
  defaultBpffsPath,
  ensureBpffs,
  getPinned,
  kindOfFd,
  pinObject,
  unpinPath,
  validatePinPath,
} from './pin.ts';

const dir = `${defaultBpffsPath}/ebpf-ts-pin-test-${process.pid}`;

requireKernel('pinning (kernel)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ensureBpffs: bpffs is mounted at /sys/fs/bpf afterwards (mounting it if needed)', () => {
    ensureBpffs();
    expect(statfsSync(defaultBpffsPath).type).toBe(0xcafe4a11);
    ensureBpffs(); // idempotent
  });

  describe('pinObject and getPinned', () => {
    it('pins into new nested directories and opens the pin with a kind check', () => {
      using map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      const path = `${dir}/a/b/map`;
      pinObject(map.fd, path);
      expect(existsSync(path)).toBe(true);
      const fd = getPinned(path, 'map');
      try {
        expect(kindOfFd(fd)).toBe('map');
      } finally {
        sys.close(fd);
      }
      const any = getPinned(path);
      sys.close(any);
      expect(() => getPinned(path, 'btf')).toThrow(/holds a map, not a BTF object/);
      expect(() => pinObject(map.fd, path)).toThrow(BpfError);
      expect(unpinPath(path)).toBe(true);
      expect(unpinPath(path)).toBe(false);
      expect(() => getPinned(path, 'map')).toThrow(NotFoundError);
    });

    it('validates paths', () => {
      expect(() => validatePinPath('')).toThrow(InvalidArgumentError);
      expect(() => validatePinPath('map')).toThrow(/absolute/);
      expect(() => validatePinPath('/sys/fs/bpf/x/')).toThrow(/not a directory/);
      expect(() => validatePinPath('/sys/fs/bpf/a\0b')).toThrow(/NUL/);
      expect(validatePinPath('/sys/fs/bpf//a/../b')).toBe('/sys/fs/bpf/b');
      using map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(() => pinObject(map.fd, '/tmp/ebpf-ts-not-bpffs/map')).toThrow(/not on a BPF file system/);
    });

    it('opening a pin off bpffs says so and where bpffs is, not to run as root', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'ebpf-ts-pin-')), 'map');
      writeFileSync(file, '');
      try {
        expect(() => BpfMap.fromPin(file)).toThrow(InvalidArgumentError);
        expect(() => getPinned(file, 'map')).toThrow(
          new RegExp(`${file} is not on a BPF file system.*mounted here at .*${defaultBpffsPath}`),
        );
        expect(() => getPinned(`${file}-missing`)).toThrow(NotFoundError);
        expect(() => getPinned(`${file}-missing`)).toThrow(/is not on a BPF file system/);
      } finally {
        rmSync(dirname(file), { recursive: true });
      }
      const missing = `${dir}/no-such-map`;
      expect(() => BpfMap.fromPin(missing)).toThrow(NotFoundError);
      expect(() => BpfMap.fromPin(missing)).toThrow(new RegExp(`^nothing is pinned at ${missing}$`));
    });

    it('kindOfFd tells BPF objects from other fds', () => {
      expect(kindOfFd(0)).toBeUndefined();
      using map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(kindOfFd(map.fd)).toBe('map');
    });
  });
});
