/**
 * Test-only: finds a function's BTF id in the running kernel's BTF (/sys/kernel/btf/vmlinux),
 * so kernel tests can call kfuncs by id. Reads just enough of the BTF format to walk its types.
 */
import { readFileSync } from 'node:fs';

/** Bytes of kind-specific data after each 12-byte type header, by kind and vlen. */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case 19: // ENUM64
      return 12 * vlen;
    case 6: // ENUM
    case 13: // FUNC_PROTO
      return 8 * vlen;
    default:
      return 0;
  }
}

/** BTF id of the FUNC named `name` in vmlinux BTF, or undefined. */
export function vmlinuxFuncId(name: string, path = '/sys/kernel/btf/vmlinux'): number | undefined {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint16(0, true) !== 0xeb9f) throw new Error(`${path} is not little-endian BTF`);
  const hdrLen = view.getUint32(4, true);
  const typeOff = hdrLen + view.getUint32(8, true);
  const typeLen = view.getUint32(12, true);
  const strOff = hdrLen + view.getUint32(16, true);
  const wanted = Buffer.from(`${name}\0`);
  let at = typeOff;
  let id = 1;
  while (at < typeOff + typeLen) {
    const nameOff = view.getUint32(at, true);
    const info = view.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    if (
      kind === 12 &&
      buf.compare(wanted, 0, wanted.length, strOff + nameOff, strOff + nameOff + wanted.length) === 0
    ) {
      return id;
    }
    at += 12 + extraBytes(kind, info & 0xffff);
    id++;
  }
  return undefined;
}
