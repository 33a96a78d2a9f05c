import { PseudoSrc } from '@ebpf/uapi';
import { imm32, imm64, makeInstruction, regIndex } from './build.ts';
import { InvalidInstructionError } from './errors.ts';
import type { Instruction } from './instruction.ts';
import { LDDW } from './opcode.ts';
import type { Register } from './registers.ts';

/** The 64-bit immediate of a pseudo `lddw`: `lo` in the first slot, `hi` in the second. */
export function pseudoImm(lo: number, hi: number): bigint {
  return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
}

/** The two 32-bit halves (signed) of an `lddw` immediate: `[first slot, second slot]`. */
export function splitImm(imm: bigint): [lo: number, hi: number] {
  return [Number(BigInt.asIntN(32, imm)), Number(BigInt.asIntN(32, imm >> 32n))];
}

/** `dst = imm ll`: load a 64-bit immediate (two slots). */
export function lddw(dst: Register, value: number | bigint): Instruction {
  return makeInstruction(LDDW, regIndex(dst, 'dst'), 0, 0, imm64(value));
}

function mapName(name: string): string {
  if (name.length === 0) throw new InvalidInstructionError('map name must not be empty', { field: 'map' });
  return name;
}

/**
 * `dst = map ll`: load a map pointer. Given a name, the reference stays symbolic until a loader
 * fills the fd (`resolveMaps`); given a number, it is the map's fd.
 */
export function ldMapFd(dst: Register, map: string | number): Instruction {
  const d = regIndex(dst, 'dst');
  if (typeof map === 'string') return makeInstruction(LDDW, d, PseudoSrc.MapFd, 0, 0n, { map: mapName(map) });
  return makeInstruction(LDDW, d, PseudoSrc.MapFd, 0, pseudoImm(imm32(map, 'map fd'), 0));
}

/** `dst = &map_value[offset]`: address of a direct-value map's value (by name or fd) plus `offset`. */
export function ldMapValue(dst: Register, map: string | number, offset = 0): Instruction {
  const d = regIndex(dst, 'dst');
  const off = imm32(offset, 'map value offset');
  if (typeof map === 'string') {
    return makeInstruction(LDDW, d, PseudoSrc.MapValue, 0, pseudoImm(0, off), { map: mapName(map) });
  }
  return makeInstruction(LDDW, d, PseudoSrc.MapValue, 0, pseudoImm(imm32(map, 'map fd'), off));
}

/** `dst = map ll` where the map is `fd_array[index]` (`BPF_PSEUDO_MAP_IDX`). */
export function ldMapIdx(dst: Register, index: number): Instruction {
  return makeInstruction(
    LDDW,
    regIndex(dst, 'dst'),
    PseudoSrc.MapIdx,
    0,
    pseudoImm(imm32(index, 'map index'), 0),
  );
}

/** `dst = &fd_array[index] value + offset` (`BPF_PSEUDO_MAP_IDX_VALUE`). */
export function ldMapIdxValue(dst: Register, index: number, offset = 0): Instruction {
  return makeInstruction(
    LDDW,
    regIndex(dst, 'dst'),
    PseudoSrc.MapIdxValue,
    0,
    pseudoImm(imm32(index, 'map index'), imm32(offset, 'map value offset')),
  );
}

/** `dst = &ksym`: address of the kernel variable with this BTF id (in the BTF object `btfObjFd`, 0 = vmlinux). */
export function ldBtfId(dst: Register, btfId: number, btfObjFd = 0): Instruction {
  return makeInstruction(
    LDDW,
    regIndex(dst, 'dst'),
    PseudoSrc.BtfId,
    0,
    pseudoImm(imm32(btfId, 'BTF id'), imm32(btfObjFd, 'BTF object fd')),
  );
}

/** `dst = &fn`: address of the BPF function at label `target` (or a relative slot delta), for callbacks. */
export function ldFuncAddr(dst: Register, target: string | number): Instruction {
  const d = regIndex(dst, 'dst');
  if (typeof target === 'string') return makeInstruction(LDDW, d, PseudoSrc.Func, 0, 0n, { target });
  return makeInstruction(LDDW, d, PseudoSrc.Func, 0, pseudoImm(imm32(target, 'function offset'), 0));
}
