/**
 * BTF objects the kernel holds, by id: what `ebpf btf show` lists and `ebpf btf dump <id>` reads.
 * Imported only by commands that touch the kernel (it loads the native binding).
 */
import { Btf } from '@ebpf/btf';
import { BpfMap, BpfProgram, BtfHandle, kernelBtf, objectIds, readObjectInfo } from '@ebpf/core';

/** A BTF object as `ebpf btf show` prints it (bpftool's fields). */
export interface BtfSummary {
  id: number;
  /** `vmlinux` or a module's name for kernel BTF; empty for BTF a loader brought. */
  name: string;
  size: number;
  kernel: boolean;
  /** Programs and maps that use it (not listed for kernel BTF, which nearly everything uses). */
  progIds: number[];
  mapIds: number[];
}

/** Every BTF object, or one by id, with the programs and maps that name it. */
export function listBtf(only?: number): BtfSummary[] {
  const ids = only === undefined ? [...objectIds('btf')] : [only];
  const summaries = new Map<number, BtfSummary>();
  for (const id of ids) {
    try {
      using handle = BtfHandle.fromId(id);
      const { name, size, kernelBtf: kernel } = handle.info();
      summaries.set(id, { id, name, size, kernel, progIds: [], mapIds: [] });
    } catch (error) {
      // One that went away while listing is not an error; one asked for by id is.
      if (only !== undefined || (error as Error).name !== 'NotFoundError') throw error;
    }
  }
  for (const p of BpfProgram.list()) summaries.get(p.btfId)?.progIds.push(p.id);
  for (const m of BpfMap.list()) summaries.get(m.btfId)?.mapIds.push(m.id);
  return [...summaries.values()];
}

/** Reads and parses the BTF object `id`: a module's is split on the kernel's own. */
export function btfById(id: number): Btf {
  using handle = BtfHandle.fromId(id);
  const info = handle.info();
  const bytes = new Uint8Array(info.size);
  readObjectInfo(handle.fd, 'btf', { btf: bytes, btfSize: bytes.length });
  const split = info.kernelBtf && info.name !== 'vmlinux';
  return Btf.parse(bytes, split ? { base: kernelBtf() } : {});
}
