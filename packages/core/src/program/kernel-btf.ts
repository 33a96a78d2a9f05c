import { readFileSync } from 'node:fs';
import { NotFoundError } from '../errors.ts';

/**
 * Finding kernel functions by name in the kernel's BTF (`/sys/kernel/btf/vmlinux`), for programs
 * that attach to one (fentry, fexit, fmod_ret, LSM): just enough of the BTF format to map FUNC
 * names to type ids. A full BTF reader belongs in its own module; this one reads the type section
 * once and keeps only the function names.
 */

const BTF_MAGIC = 0xeb9f;
const KIND_FUNC = 12;

/** Bytes that follow the 12-byte `struct btf_type` for each kind, given its `vlen`. */
function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
      return 12 * vlen;
    case 6: // ENUM
      return 8 * vlen;
    case 13: // FUNC_PROTO
      return 8 * vlen;
    case 14: // VAR
      return 4;
    case 15: // DATASEC
      return 12 * vlen;
    case 17: // DECL_TAG
      return 4;
    case 19: // ENUM64
      return 12 * vlen;
    default: // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
      return 0;
  }
}

/** A BTF blob (header, type section, string section) around encoded types and strings. */
export function btfBlob(types: Uint8Array, strings: Uint8Array): Uint8Array {
  const blob = new Uint8Array(24 + types.length + strings.length);
  const view = new DataView(blob.buffer);
  view.setUint16(0, BTF_MAGIC, true);
  view.setUint8(2, 1); // version
  view.setUint32(4, 24, true); // hdr_len
  view.setUint32(8, 0, true); // type_off
  view.setUint32(12, types.length, true); // type_len
  view.setUint32(16, types.length, true); // str_off
  view.setUint32(20, strings.length, true); // str_len
  blob.set(types, 24);
  blob.set(strings, 24 + types.length);
  return blob;
}

/** Every FUNC in a BTF blob, name → type id. */
export function btfFunctions(blob: Uint8Array): Map<string, number> {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < 24 || view.getUint16(0, true) !== BTF_MAGIC)
    throw new Error('not a little-endian BTF blob');
  const headerLength = view.getUint32(4, true);
  const typeStart = headerLength + view.getUint32(8, true);
  const typeEnd = typeStart + view.getUint32(12, true);
  const stringStart = headerLength + view.getUint32(16, true);
  const decoder = new TextDecoder();
  const functions = new Map<string, number>();
  let id = 1;
  for (let at = typeStart; at + 12 <= typeEnd; id++) {
    const nameOffset = view.getUint32(at, true);
    const info = view.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    if (kind === KIND_FUNC) {
      const start = stringStart + nameOffset;
      const end = blob.indexOf(0, start);
      functions.set(decoder.decode(blob.subarray(start, end)), id);
    }
    at += 12 + trailing(kind, info & 0xffff);
  }
  return functions;
}

let vmlinux: Map<string, number> | undefined;

/**
 * The BTF type id of kernel function `name` in vmlinux BTF. Throws `NotFoundError` when the
 * kernel has no such function (or no BTF).
 */
export function kernelFunctionId(name: string): number {
  if (vmlinux === undefined) {
    let blob: Uint8Array;
    try {
      blob = readFileSync('/sys/kernel/btf/vmlinux');
    } catch (error) {
      throw new NotFoundError(
        `cannot find kernel function '${name}': the kernel exposes no BTF (/sys/kernel/btf/vmlinux)`,
        {
          cause: error,
          code: 'ENOENT',
        },
      );
    }
    vmlinux = btfFunctions(blob);
  }
  const id = vmlinux.get(name);
  if (id === undefined) {
    throw new NotFoundError(`no kernel function '${name}' in vmlinux BTF`, { code: 'ENOENT' });
  }
  return id;
}
