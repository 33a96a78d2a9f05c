/**
 * The names and values other packages rely on (the cross-package contract): a rename or a lost
 * member in the generator's tables fails here, not in @ebpf/asm or @ebpf/core.
 */
import { describe, expect, it } from 'vitest';
import * as uapi from './index.ts';

describe('@ebpf/uapi contract', () => {
  it('has the syscall enums with the agreed member names', () => {
    expect(uapi.Cmd).toMatchObject({
      MapCreate: 0,
      ProgLoad: 5,
      ProgTestRun: 10,
      ObjGetInfoByFd: 15,
      LinkCreate: 28,
      TokenCreate: 36,
    });
    expect(uapi.MapType).toMatchObject({ Hash: 1, PercpuHash: 5, Ringbuf: 27, Arena: 33 });
    expect(uapi.ProgType).toMatchObject({ SocketFilter: 1, Xdp: 6, Syscall: 31 });
    expect(uapi.AttachType).toMatchObject({ CgroupInetIngress: 0 });
    expect(uapi.LinkType).toMatchObject({ Xdp: 6 });
    expect(uapi.FuncId).toMatchObject({ MapLookupElem: 1, RingbufOutput: 130 });
    expect(uapi.XdpAction).toEqual({ Aborted: 0, Drop: 1, Pass: 2, Tx: 3, Redirect: 4 });
  });

  it('has the instruction encoding', () => {
    expect(uapi.InsnClass).toEqual({ Ld: 0, Ldx: 1, St: 2, Stx: 3, Alu: 4, Jmp: 5, Jmp32: 6, Alu64: 7 });
    expect(uapi.InsnSize).toEqual({ W: 0x00, H: 0x08, B: 0x10, Dw: 0x18 });
    expect(uapi.InsnMode).toEqual({ Imm: 0x00, Abs: 0x20, Ind: 0x40, Mem: 0x60, Memsx: 0x80, Atomic: 0xc0 });
    expect(uapi.InsnSource).toEqual({ K: 0x00, X: 0x08 });
    expect(uapi.EndianSource).toEqual({ ToLe: 0x00, ToBe: 0x08 });
    expect(uapi.AluOp).toEqual({
      Add: 0x00,
      Sub: 0x10,
      Mul: 0x20,
      Div: 0x30,
      Or: 0x40,
      And: 0x50,
      Lsh: 0x60,
      Rsh: 0x70,
      Neg: 0x80,
      Mod: 0x90,
      Xor: 0xa0,
      Mov: 0xb0,
      Arsh: 0xc0,
      End: 0xd0,
    });
    expect(uapi.JmpOp).toEqual({
      Ja: 0x00,
      Jeq: 0x10,
      Jgt: 0x20,
      Jge: 0x30,
      Jset: 0x40,
      Jne: 0x50,
      Jsgt: 0x60,
      Jsge: 0x70,
      Call: 0x80,
      Exit: 0x90,
      Jlt: 0xa0,
      Jle: 0xb0,
      Jslt: 0xc0,
      Jsle: 0xd0,
      Jcond: 0xe0,
    });
    expect(uapi.AtomicOp).toEqual({
      Fetch: 0x01,
      Xchg: 0xe1,
      Cmpxchg: 0xf1,
      LoadAcq: 0x100,
      StoreRel: 0x110,
    });
    expect(uapi.PseudoSrc).toEqual({ MapFd: 1, MapValue: 2, BtfId: 3, Func: 4, MapIdx: 5, MapIdxValue: 6 });
    expect(uapi.PseudoCall).toEqual({ Call: 1, KfuncCall: 2 });
  });

  it('has every flag family', () => {
    expect(uapi.UpdateFlags).toEqual({ Any: 0, Noexist: 1, Exist: 2, FLock: 4 });
    expect(uapi.MapFlags).toMatchObject({
      NoPrealloc: 1,
      NoCommonLru: 2,
      NumaNode: 4,
      Rdonly: 8,
      Mmapable: 1024,
      TokenFd: 1 << 16,
    });
    expect(uapi.XdpFlags).toEqual({ UpdateIfNoexist: 1, SkbMode: 2, DrvMode: 4, HwMode: 8, Replace: 16 });
    expect(uapi.ProgLoadFlags).toMatchObject({
      StrictAlignment: 1,
      Sleepable: 16,
      XdpHasFrags: 32,
      XdpDevBoundOnly: 64,
    });
    expect(uapi.AttachFlags).toMatchObject({
      AllowOverride: 1,
      AllowMulti: 2,
      Replace: 4,
      Before: 8,
      After: 16,
      Id: 32,
      Link: 8192,
    });
    expect(uapi.TestRunFlags).toEqual({ TestRunOnCpu: 1, TestXdpLiveFrames: 2, TestSkbChecksumComplete: 4 });
    expect(uapi.ObjFlags).toEqual({ Rdonly: 8, Wronly: 16, PathFd: 16384 });
    expect(uapi.QueryFlags).toEqual({ QueryEffective: 1 });
    expect(uapi.LinkCreateFlags).toEqual({ KprobeMultiReturn: 1, UprobeMultiReturn: 1 });
  });

  it('has the layout of every bpf_attr member and of the info and context structs', () => {
    expect(uapi.MapElemAttr).toEqual({
      name: 'bpf_attr (BPF_MAP_*_ELEM)',
      size: 32,
      fields: {
        mapFd: { offset: 0, size: 4, type: 'u32' },
        key: { offset: 8, size: 8, type: 'ptr' },
        value: { offset: 16, size: 8, type: 'ptr' },
        nextKey: { offset: 16, size: 8, type: 'ptr' },
        flags: { offset: 24, size: 8, type: 'u64' },
      },
    });
    for (const name of [
      'MapCreateAttr',
      'MapElemAttr',
      'MapBatchAttr',
      'ProgLoadAttr',
      'ObjAttr',
      'ProgAttachAttr',
      'TestRunAttr',
      'GetIdAttr',
      'InfoAttr',
      'QueryAttr',
      'RawTracepointOpenAttr',
      'BtfLoadAttr',
      'TaskFdQueryAttr',
      'LinkCreateAttr',
      'LinkUpdateAttr',
      'LinkDetachAttr',
      'EnableStatsAttr',
      'IterCreateAttr',
      'ProgBindMapAttr',
      'TokenCreateAttr',
      'ProgInfo',
      'MapInfo',
      'LinkInfo',
      'BtfInfo',
      'XdpMd',
      'SkBuff',
    ]) {
      const layout = (uapi as unknown as Record<string, uapi.StructLayout>)[name];
      expect(layout, name).toBeDefined();
      expect(layout!.size, name).toBeGreaterThan(0);
    }
    expect(uapi.LinkCreateAttr.fields.kprobeMultiCnt).toMatchObject({ type: 'u32' });
    expect(uapi.LinkCreateAttr.fields.kprobeMultiSyms).toMatchObject({ type: 'ptr' });
    expect(uapi.MapCreateAttr.fields.mapName).toEqual({ offset: 28, size: 16, type: 'bytes' });
    expect(uapi.ProgInfo.fields.tag).toMatchObject({ type: 'bytes', size: 8 });
    expect(uapi.ProgInfo.fields.xlatedProgInsns.type).toBe('ptr');
    // The kernel copies the map's SHA-256 to the address in bpf_map_info.hash (6.18): a pointer, tied to a buffer.
    expect(uapi.MapInfo.fields.hash).toEqual({ offset: 88, size: 8, type: 'ptr' });
    expect(uapi.MapCreateAttr.fields.exclProgHash.type).toBe('ptr');
    expect(uapi.SkBuff.fields.cb).toMatchObject({ type: 'bytes', elem: 'u32', count: 5, size: 20 });
    expect(uapi.BPF_ATTR_SIZE).toBeGreaterThanOrEqual(uapi.LinkCreateAttr.size);
  });

  it('has helper signatures by id', () => {
    expect(uapi.helperSignatures[uapi.FuncId.MapLookupElem]).toBe(
      'void *bpf_map_lookup_elem(void *map, const void *key)',
    );
    expect(uapi.helperSignatures[uapi.FuncId.RingbufOutput]).toBe(
      'long bpf_ringbuf_output(void *ringbuf, void *data, u64 size, u64 flags)',
    );
    expect(uapi.helperSignatures[uapi.FuncId.CgrpStorageDelete]).toBe(
      'long bpf_cgrp_storage_delete(void *map, struct cgroup *cgroup)',
    );
    expect(uapi.helperSignatures[0]).toBeUndefined();
  });
});
