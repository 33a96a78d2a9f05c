/**
 * BTF for maps whose kernel code insists on it (sk, inode, task and cgroup local storage): when
 * the user gives none, `BpfMap.create` describes the key as `int` and the value as bytes, which
 * is all the kernel checks. Programs still see the value as whatever their own BTF says.
 */
import { BtfBuilder } from '@ebpf/btf';
import * as sys from '@ebpf/sys';
import { AttrBuffer, BtfIntEncoding, BtfLoadAttr, Cmd } from '@ebpf/uapi';

/** Type id of `int` in {@link storageBtf}: the key of local storage maps. */
export const storageKeyTypeId = 1;
/** Type id of `__u8[valueSize]` in {@link storageBtf}: the value. */
export const storageValueTypeId = 3;

/** A BTF blob with `int` (id 1), `__u8` (id 2) and `__u8[valueSize]` (id 3). */
export function storageBtf(valueSize: number): Uint8Array {
  const b = new BtfBuilder();
  b.add({ kind: 'int', name: 'int', size: 4, encoding: BtfIntEncoding.Signed, bitOffset: 0, bits: 32 });
  const u8 = b.add({ kind: 'int', name: '__u8', size: 1, encoding: 0, bitOffset: 0, bits: 8 });
  b.add({ kind: 'array', name: '', element: u8, index: storageKeyTypeId, count: valueSize });
  return b.marshal();
}

/** BPF_BTF_LOAD of `blob`; returns the BTF object's fd. Errors are `SysError`s. */
export function loadBtf(blob: Uint8Array): number {
  const attr = new AttrBuffer(BtfLoadAttr);
  attr.pointer('btf', blob);
  attr.u32('btfSize', blob.length);
  return sys.bpf(Cmd.BtfLoad, attr.bytes, attr.pointers);
}
