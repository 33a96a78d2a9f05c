/**
 * The map syscalls, in one place: attr buffers built from the generated layouts, handed to
 * `@ebpf/sys`. Everything above this file speaks in maps, keys and values.
 */
import * as sys from '@ebpf/sys';
import { AttrBuffer, Cmd, MapBatchAttr, MapCreateAttr, MapElemAttr } from '@ebpf/uapi';

import type { NormalizedMapSpec } from './spec.ts';
import { loadBtf, storageBtf, storageKeyTypeId, storageValueTypeId } from './storage-btf.ts';

const createAttr = new AttrBuffer(MapCreateAttr);
const elemAttr = new AttrBuffer(MapElemAttr);
const batchAttr = new AttrBuffer(MapBatchAttr);

/**
 * BPF_MAP_CREATE from a checked spec; returns the new fd. Errors are `SysError`s (the caller words
 * them). Types that need BTF and got none (local storage) get a minimal one, held only while creating.
 */
export function createMapFd(spec: NormalizedMapSpec, innerMapFd: number): number {
  if (spec.info?.needsBtf && spec.btf === undefined) {
    const btf = loadBtf(storageBtf(spec.valueSize));
    try {
      return createMapFd(
        { ...spec, btf: { fd: btf, keyTypeId: storageKeyTypeId, valueTypeId: storageValueTypeId } },
        innerMapFd,
      );
    } finally {
      sys.close(btf);
    }
  }
  const a = createAttr;
  a.reset();
  a.u32('mapType', spec.type);
  a.u32('keySize', spec.keySize);
  a.u32('valueSize', spec.valueSize);
  a.u32('maxEntries', spec.maxEntries);
  a.u32('mapFlags', spec.flags);
  if (innerMapFd >= 0) a.u32('innerMapFd', innerMapFd);
  if (spec.numaNode !== undefined) a.u32('numaNode', spec.numaNode);
  if (spec.name) a.setBytes('mapName', spec.name);
  if (spec.ifindex) a.u32('mapIfindex', spec.ifindex);
  if (spec.btf) {
    const fd = typeof spec.btf.fd === 'number' ? spec.btf.fd : spec.btf.fd.fd;
    a.u32('btfFd', fd);
    if (spec.btf.keyTypeId !== undefined) a.u32('btfKeyTypeId', spec.btf.keyTypeId);
    if (spec.btf.valueTypeId !== undefined) a.u32('btfValueTypeId', spec.btf.valueTypeId);
    if (spec.btf.vmlinuxValueTypeId !== undefined)
      a.u32('btfVmlinuxValueTypeId', spec.btf.vmlinuxValueTypeId);
  }
  if (spec.mapExtra) a.u64('mapExtra', spec.mapExtra);
  try {
    return sys.bpf(Cmd.MapCreate, a.bytes, a.pointers);
  } finally {
    a.reset();
  }
}

/** BPF_MAP_FREEZE. */
export function freezeMap(fd: number): void {
  elemAttr.reset();
  elemAttr.u32('mapFd', fd);
  sys.bpf(Cmd.MapFreeze, elemAttr.bytes, elemAttr.pointers);
}

/** The batch commands. */
export type BatchCommand = 'lookup' | 'lookupAndDelete' | 'update' | 'delete';
const batchCmds: Record<BatchCommand, number> = {
  lookup: Cmd.MapLookupBatch,
  lookupAndDelete: Cmd.MapLookupAndDeleteBatch,
  update: Cmd.MapUpdateBatch,
  delete: Cmd.MapDeleteBatch,
};

/** Result of one batch call: how many elements it processed and whether the walk reached the end. */
export interface BatchResult {
  count: number;
  done: boolean;
}
const batchResult: BatchResult = { count: 0, done: false };

/**
 * One BPF_MAP_*_BATCH call. `inBatch` null starts a walk; `outBatch` receives the position.
 * Returns a shared result object (read it before the next call). ENOENT ends a walk (done).
 * Other errors are thrown as `SysError`; the count of elements processed before them is lost.
 */
export function batchOp(
  command: BatchCommand,
  fd: number,
  inBatch: Uint8Array | null,
  outBatch: Uint8Array | null,
  keys: Uint8Array | null,
  values: Uint8Array | null,
  count: number,
  elemFlags: number,
): BatchResult {
  const a = batchAttr;
  a.reset();
  a.u32('mapFd', fd);
  a.pointer('inBatch', inBatch);
  a.pointer('outBatch', outBatch);
  a.pointer('keys', keys);
  a.pointer('values', values);
  a.u32('count', count);
  a.u64('elemFlags', elemFlags);
  try {
    sys.bpf(batchCmds[command], a.bytes, a.pointers);
    batchResult.count = a.getU32('count');
    batchResult.done = false;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
    batchResult.count = a.getU32('count');
    batchResult.done = true;
  }
  return batchResult;
}
