import { requireKernel, thrown } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { ClosedError, InvalidArgumentError, KernelRejectedError } from '../errors.ts';
import { storageBtf } from '../map/storage-btf.ts';
import { objectIds } from '../object-info.ts';
import { BtfHandle, BtfRejectedError, kernelBtf } from './index.ts';

requireKernel('BtfHandle (kernel)', () => {
  describe('load', () => {
    it('loads raw BTF, reads its info back and opens it again by id', () => {
      const bytes = storageBtf(8);
      using btf = BtfHandle.load(bytes);
      const info = btf.info();
      expect(info.size).toBe(bytes.length);
      expect(info.kernelBtf).toBe(false);
      using again = BtfHandle.fromId(info.id);
      expect(again.info().id).toBe(info.id);
      expect(again.fd).not.toBe(btf.fd);
    });

    it('keeps the log of a successful load when asked', () => {
      using btf = BtfHandle.load(storageBtf(4), { logLevel: 1 });
      expect(typeof btf.log).toBe('string');
    });

    it('throws BtfRejectedError with the checker log for broken BTF', () => {
      const bytes = storageBtf(8);
      // The array's element type id (offset 24 + 16 + 16 + 12 of the blob) points past the last type.
      new DataView(bytes.buffer, bytes.byteOffset).setUint32(24 + 32 + 12, 99, true);
      const error = thrown(() => BtfHandle.load(bytes));
      expect(error).toBeInstanceOf(BtfRejectedError);
      expect(error).toBeInstanceOf(KernelRejectedError);
      expect(error.command).toBe('BPF_BTF_LOAD');
      expect(error.log).toMatch(/\S/);
      expect(error.message).toMatch(/refused the BTF/);
    });

    it('refuses what is not bytes before the kernel sees it', () => {
      expect(() => BtfHandle.load(new Uint8Array())).toThrow(InvalidArgumentError);
      expect(() => BtfHandle.load('btf' as unknown as Uint8Array)).toThrow(InvalidArgumentError);
    });
  });

  it('opens the kernel BTF by id as kernel BTF', () => {
    const ids = [...objectIds('btf')].filter((id) => {
      using btf = BtfHandle.fromId(id);
      return btf.info().name === 'vmlinux';
    });
    expect(ids).toHaveLength(1);
    using vmlinux = BtfHandle.fromId(ids[0] as number);
    expect(vmlinux.info().kernelBtf).toBe(true);
    expect(kernelBtf().typeByName('task_struct')).toBeDefined();
  });

  it('is closed once and then refuses use', () => {
    const btf = BtfHandle.load(storageBtf(4));
    btf.close();
    btf.close();
    expect(() => btf.fd).toThrow(ClosedError);
    expect(() => btf.info()).toThrow(ClosedError);
  });
});
