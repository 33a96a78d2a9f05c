import { add64, atomicAdd64, call, exit, jeq, label, ldMapFd, mov64, R0, R1, R2, R10, stw } from '@ebpf/asm';

/** `counts[0] += 1` on the map passed to the load as `counts` (an array of u64), then return `verdict`. */
export const counter = (verdict: number) => [
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

/** `return verdict`: the smallest program, for tests that need one of some type. */
export const returns = (verdict: number) => [mov64(R0, verdict), exit()];
