/**
 * BTF for maps whose kernel code insists on it (sk, inode, task and cgroup local storage): when
 * the user gives none, `BpfMap.create` describes the key as `int` and the value as bytes, which
 * is all the kernel checks. Programs still see the value as whatever their own BTF says.
 */
import * as sys from '@ebpf/sys';
import { AttrBuffer, BtfLoadAttr, Cmd } from '@ebpf/uapi';
import { btfBlob } from '../program/kernel-btf.ts';

/** Type id of `int` in {@link storageBtf}: the key of local storage maps. */
export const storageKeyTypeId = 1;
/** Type id of `__u8[valueSize]` in {@link storageBtf}: the value. */
export const storageValueTypeId = 3;

const KIND_INT = 1;
const KIND_ARRAY = 3;
const strings = new TextEncoder().encode('\0int\0__u8\0');
const INT_NAME = 1;
const U8_NAME = 5;

/** A BTF blob with `int` (id 1), `__u8` (id 2) and `__u8[valueSize]` (id 3). */
export function storageBtf(valueSize: number): Uint8Array {
  const types = new Uint8Array(16 + 16 + 24);
  const view = new DataView(types.buffer);
  // [1] int: signed, 32 bits
  view.setUint32(0, INT_NAME, true);
  view.setUint32(4, KIND_INT << 24, true);
  view.setUint32(8, 4, true);
  view.setUint32(12, (1 << 24) | 32, true);
  // [2] __u8: unsigned, 8 bits
  view.setUint32(16, U8_NAME, true);
  view.setUint32(20, KIND_INT << 24, true);
  view.setUint32(24, 1, true);
  view.setUint32(28, 8, true);
  // [3] __u8[valueSize], indexed by int
  view.setUint32(32, 0, true);
  view.setUint32(36, KIND_ARRAY << 24, true);
  view.setUint32(40, 0, true);
  view.setUint32(44, 2, true); // element type
  view.setUint32(48, storageKeyTypeId, true); // index type
  view.setUint32(52, valueSize, true);
  return btfBlob(types, strings);
}

/** BPF_BTF_LOAD of `blob`; returns the BTF object's fd. Errors are `SysError`s. */
export function loadBtf(blob: Uint8Array): number {
  const attr = new AttrBuffer(BtfLoadAttr);
  attr.pointer('btf', blob);
  attr.u32('btfSize', blob.length);
  return sys.bpf(Cmd.BtfLoad, attr.bytes, attr.pointers);
}
