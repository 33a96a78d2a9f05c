/**
 * Programs kernel tests share, built with `@ebpf/asm` (a peer dependency: only packages that
 * depend on it import this module, as `@ebpf/test-utils/programs`).
 */
import {
  add64,
  atomicAdd64,
  call,
  exit,
  type Instruction,
  type Item,
  jeq,
  label,
  ldMapFd,
  mov64,
  R0,
  R1,
  R2,
  R10,
  stw,
} from '@ebpf/asm';

/** `counts[0] += 1` (an array map of u64 passed to the load as `counts`), then return `verdict`. */
export function countingProgram(verdict: number): Array<Instruction | Item> {
  return [
    stw(R10, -4, 0),
    mov64(R2, R10),
    add64(R2, -4),
    ldMapFd(R1, 'counts'),
    call('map_lookup_elem'),
    jeq(R0, 0, 'out'),
    mov64(R1, 1),
    atomicAdd64(R0, 0, R1),
    label('out'),
    mov64(R0, verdict),
    exit(),
  ];
}
