import * as sys from '@ebpf/sys';
import {
  AttrBuffer,
  BtfInfo as BtfInfoLayout,
  Cmd,
  GetIdAttr,
  LinkInfo as LinkInfoLayout,
  MapInfo as MapInfoLayout,
  ProgInfo as ProgInfoLayout,
  type StructLayout,
} from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError, translateSysError } from './errors.ts';
import type { ObjectKind } from './pin.ts';

type Layout = StructLayout;

/** A decoded field: numbers for up to 32-bit integers, bigint for 64-bit ones and pointers, bytes for arrays. */
export type InfoField = number | bigint | Uint8Array;

/** A `bpf_*_info` struct decoded field by field, with the kernel's field names in camelCase. */
export type RawInfo = Record<string, InfoField>;

const infoLayouts: Record<ObjectKind, Layout> = {
  map: MapInfoLayout as Layout,
  prog: ProgInfoLayout as Layout,
  link: LinkInfoLayout as Layout,
  btf: BtfInfoLayout as Layout,
};

const nextIdCmd: Record<ObjectKind, number> = {
  map: Cmd.MapGetNextId,
  prog: Cmd.ProgGetNextId,
  link: Cmd.LinkGetNextId,
  btf: Cmd.BtfGetNextId,
};
const fdByIdCmd: Record<ObjectKind, number> = {
  map: Cmd.MapGetFdById,
  prog: Cmd.ProgGetFdById,
  link: Cmd.LinkGetFdById,
  btf: Cmd.BtfGetFdById,
};
const kindWords: Record<ObjectKind, string> = {
  map: 'map',
  prog: 'program',
  link: 'link',
  btf: 'BTF object',
};

function checkKind(kind: ObjectKind): void {
  if (!Object.hasOwn(infoLayouts, kind)) {
    throw new InvalidArgumentError(`kind must be one of 'map', 'prog', 'link', 'btf', got '${String(kind)}'`);
  }
}

const idAttr = new AttrBuffer(GetIdAttr);

/** Decodes every field of `layout` from `bytes`. Fields that overlap (unions) are all decoded. */
export function decodeLayout(layout: Layout, bytes: Uint8Array): RawInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: RawInfo = {};
  for (const [name, field] of Object.entries(layout.fields)) {
    const { offset, size, type, bitOffset, bitSize } = field;
    if (offset + size > bytes.byteLength) continue;
    if (bitSize !== undefined) {
      const unit =
        size === 4
          ? view.getUint32(offset, true)
          : size === 2
            ? view.getUint16(offset, true)
            : view.getUint8(offset);
      out[name] = bitSize >= 32 ? unit >>> 0 : (unit >>> (bitOffset ?? 0)) & ((1 << bitSize) - 1);
      continue;
    }
    switch (type) {
      case 'u8':
        out[name] = view.getUint8(offset);
        break;
      case 's8':
        out[name] = view.getInt8(offset);
        break;
      case 'u16':
        out[name] = view.getUint16(offset, true);
        break;
      case 's16':
        out[name] = view.getInt16(offset, true);
        break;
      case 'u32':
        out[name] = view.getUint32(offset, true);
        break;
      case 's32':
        out[name] = view.getInt32(offset, true);
        break;
      case 'u64':
      case 'ptr':
        out[name] = view.getBigUint64(offset, true);
        break;
      case 's64':
        out[name] = view.getBigInt64(offset, true);
        break;
      default:
        out[name] = bytes.slice(offset, offset + size);
    }
  }
  return out;
}

/**
 * Walks the ids of every object of `kind` on the system (BPF_*_GET_NEXT_ID), in increasing order.
 * Objects created or freed while walking may or may not show up.
 */
export function* objectIds(kind: ObjectKind): Generator<number, void, undefined> {
  checkKind(kind);
  let start = 0;
  for (;;) {
    idAttr.reset();
    idAttr.u32('startId', start);
    try {
      sys.bpf(nextIdCmd[kind], idAttr.bytes, idAttr.pointers);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return;
      throw translateSysError(error, `listing ${kindWords[kind]} ids`);
    }
    start = idAttr.getU32('nextId');
    yield start;
  }
}

/**
 * Opens the object of `kind` with the kernel-wide `id` (BPF_*_GET_FD_BY_ID) and returns an fd the
 * caller owns. Throws `NotFoundError` when no such object exists (any more).
 */
export function fdFromId(kind: ObjectKind, id: number, openFlags = 0): number {
  checkKind(kind);
  if (!Number.isInteger(id) || id <= 0 || id > 0xffffffff) {
    throw new InvalidArgumentError(
      `${kindWords[kind]} id must be a positive 32-bit integer, got ${String(id)}`,
    );
  }
  idAttr.reset();
  idAttr.u32('startId', id);
  idAttr.u32('openFlags', openFlags);
  try {
    return sys.bpf(fdByIdCmd[kind], idAttr.bytes, idAttr.pointers);
  } catch (error) {
    const translated = translateSysError(error, `opening ${kindWords[kind]} id ${id}`);
    if (translated instanceof NotFoundError) {
      throw new NotFoundError(`no ${kindWords[kind]} with id ${id}`, {
        cause: error,
        code: 'ENOENT',
      });
    }
    throw translated;
  }
}

/**
 * Reads `bpf_<kind>_info` of `fd` (BPF_OBJ_GET_INFO_BY_FD) and decodes every field. `request`
 * presets fields before the call, to ask for the variable-length parts: numbers set counts or
 * lengths, `Uint8Array`s are passed as the buffers of pointer fields, for example
 * `{ nrMapIds: 4, mapIds: new Uint8Array(16) }` for a program's map ids. The kernel fills them.
 */
export function readObjectInfo(
  fd: number,
  kind: ObjectKind,
  request: Readonly<Record<string, number | bigint | Uint8Array>> = {},
): RawInfo {
  checkKind(kind);
  const layout = infoLayouts[kind];
  const info = new AttrBuffer(layout);
  for (const [name, value] of Object.entries(request)) {
    const field = layout.fields[name];
    if (!field) throw new InvalidArgumentError(`bpf_${kind}_info has no field '${name}'`);
    // Field names are checked above; the generic layout type cannot narrow them.
    const key = name as never;
    if (value instanceof Uint8Array) info.pointer(key, value);
    else if (field.size === 8) info.u64(key, value);
    else info.u32(key, Number(value));
  }
  try {
    // Pointer fields inside the info struct (map ids, instructions...) go as nested pairs.
    sys.objInfo(fd, info.bytes, info.pointers);
  } catch (error) {
    throw translateSysError(error, `reading the info of ${kindWords[kind]} fd ${fd}`);
  }
  return decodeLayout(layout, info.bytes);
}

function cName(bytes: InfoField | undefined): string {
  if (!(bytes instanceof Uint8Array)) return '';
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
}
const num = (v: InfoField | undefined): number =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
const big = (v: InfoField | undefined): bigint =>
  typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : 0n;

/** What the kernel reports about a map (`struct bpf_map_info`). */
export interface MapInfo {
  /** Map type number (`MapType`). */
  readonly type: number;
  /** Kernel-wide id. */
  readonly id: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** BPF_F_* flags the map was created with. */
  readonly flags: number;
  /** Name given at creation (up to 15 characters). */
  readonly name: string;
  /** Interface index of an offloaded map, 0 otherwise. */
  readonly ifindex: number;
  /** BTF object id and type ids of key and value, 0 when the map has no BTF. */
  readonly btfId: number;
  readonly btfKeyTypeId: number;
  readonly btfValueTypeId: number;
  readonly btfVmlinuxValueTypeId: number;
  /** Type-specific extra (bloom filter hash count, arena address hint). */
  readonly mapExtra: bigint;
  /** Every field the kernel returned, undecoded names included. */
  readonly raw: RawInfo;
}

/** Reads `bpf_map_info` of a map fd. */
export function mapInfo(fd: number): MapInfo {
  const raw = readObjectInfo(fd, 'map');
  return Object.freeze({
    type: num(raw.type),
    id: num(raw.id),
    keySize: num(raw.keySize),
    valueSize: num(raw.valueSize),
    maxEntries: num(raw.maxEntries),
    flags: num(raw.mapFlags),
    name: cName(raw.name),
    ifindex: num(raw.ifindex),
    btfId: num(raw.btfId),
    btfKeyTypeId: num(raw.btfKeyTypeId),
    btfValueTypeId: num(raw.btfValueTypeId),
    btfVmlinuxValueTypeId: num(raw.btfVmlinuxValueTypeId),
    mapExtra: big(raw.mapExtra),
    raw,
  });
}

/** What the kernel reports about a program (`struct bpf_prog_info`), the fixed-size part plus map ids. */
export interface ProgInfo {
  readonly type: number;
  readonly id: number;
  /** The program's tag (a hash of its instructions) as 16 hex digits. */
  readonly tag: string;
  readonly name: string;
  readonly jitedProgLen: number;
  readonly xlatedProgLen: number;
  /** Nanoseconds since boot when the program was loaded. */
  readonly loadTime: bigint;
  readonly createdByUid: number;
  /** Ids of the maps the program uses. */
  readonly mapIds: readonly number[];
  readonly btfId: number;
  /** Instructions the verifier processed (0 on kernels that do not say). */
  readonly verifiedInsns: number;
  /** Statistics, when enabled with BPF_ENABLE_STATS or the sysctl. */
  readonly runTimeNs: bigint;
  readonly runCnt: bigint;
  readonly recursionMisses: bigint;
  readonly raw: RawInfo;
}

/** Reads `bpf_prog_info` of a program fd, and the ids of the maps it uses. */
export function progInfo(fd: number): ProgInfo {
  let raw = readObjectInfo(fd, 'prog');
  const nrMapIds = num(raw.nrMapIds);
  let mapIds: number[] = [];
  if (nrMapIds > 0) {
    const ids = new Uint8Array(new ArrayBuffer(nrMapIds * 4));
    raw = readObjectInfo(fd, 'prog', { nrMapIds, mapIds: ids });
    const view = new DataView(ids.buffer);
    mapIds = Array.from({ length: Math.min(nrMapIds, num(raw.nrMapIds)) }, (_, i) =>
      view.getUint32(i * 4, true),
    );
  }
  const tag = raw.tag instanceof Uint8Array ? Buffer.from(raw.tag).toString('hex') : '';
  return Object.freeze({
    type: num(raw.type),
    id: num(raw.id),
    tag,
    name: cName(raw.name),
    jitedProgLen: num(raw.jitedProgLen),
    xlatedProgLen: num(raw.xlatedProgLen),
    loadTime: big(raw.loadTime),
    createdByUid: num(raw.createdByUid),
    mapIds: Object.freeze(mapIds),
    btfId: num(raw.btfId),
    verifiedInsns: num(raw.verifiedInsns),
    runTimeNs: big(raw.runTimeNs),
    runCnt: big(raw.runCnt),
    recursionMisses: big(raw.recursionMisses),
    raw,
  });
}

/** What the kernel reports about a link (`struct bpf_link_info`): type, id, program id, and the rest raw. */
export interface LinkInfo {
  readonly type: number;
  readonly id: number;
  readonly progId: number;
  readonly raw: RawInfo;
}

/** Reads `bpf_link_info` of a link fd. Type-specific parts (ifindex of XDP links...) are in `raw`. */
export function linkInfo(fd: number): LinkInfo {
  const raw = readObjectInfo(fd, 'link');
  return Object.freeze({ type: num(raw.type), id: num(raw.id), progId: num(raw.progId), raw });
}

/** What the kernel reports about a BTF object (`struct bpf_btf_info`). */
export interface BtfInfo {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  /** Whether this is kernel (vmlinux or module) BTF. */
  readonly kernelBtf: boolean;
  readonly raw: RawInfo;
}

/** Reads `bpf_btf_info` of a BTF fd (the name, when the kernel has one, is read too). */
export function btfInfo(fd: number): BtfInfo {
  let raw = readObjectInfo(fd, 'btf');
  let name = '';
  const nameLen = num(raw.nameLen);
  if (nameLen > 0) {
    const buf = new Uint8Array(new ArrayBuffer(nameLen + 1));
    raw = readObjectInfo(fd, 'btf', { name: buf, nameLen: nameLen + 1 });
    name = cName(buf);
  }
  return Object.freeze({
    id: num(raw.id),
    name,
    size: num(raw.btfSize),
    kernelBtf: num(raw.kernelBtf) !== 0,
    raw,
  });
}
