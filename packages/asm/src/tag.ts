import { PseudoSrc } from '@ebpf/uapi';
import { encode } from './encode.ts';
import type { Instruction } from './instruction.ts';
import { LDDW } from './opcode.ts';
import { resolveMaps } from './program.ts';
import { sha1 } from './sha1.ts';
import { sha256 } from './sha256.ts';

/**
 * The hash behind program tags: SHA-256 since Linux 6.18 (signed programs), SHA-1 before.
 */
export type TagAlgorithm = 'sha256' | 'sha1';

/**
 * The tag the kernel gives a loaded program (`bpf_prog_info.tag`, `bpftool prog` and
 * `/proc/<pid>/fdinfo`'s `prog_tag`), as 16 hex digits: the first 8 bytes of a hash over the
 * instructions as loaded, with the immediates of map fd and map value loads zeroed so that the
 * tag does not depend on fd numbers. `input` is host-order (little-endian) instruction bytes or
 * instructions. The hash is SHA-256 on Linux 6.18 and later and SHA-1 before; when the kernel
 * version is unknown, compare with {@link matchesTag}.
 */
export function programTag(
  input: Uint8Array | readonly Instruction[],
  algorithm: TagAlgorithm = 'sha256',
): string {
  // Map references by name may stay unresolved: their immediates are zeroed below anyway.
  const bytes = input instanceof Uint8Array ? input.slice() : encode(resolveMaps(input, () => 0));
  let wasMapLoad = false;
  for (let at = 0; at + 8 <= bytes.length; at += 8) {
    const op = bytes[at]!;
    const regs = bytes[at + 1]!;
    const src = regs >> 4;
    if (!wasMapLoad && op === LDDW && (src === PseudoSrc.MapFd || src === PseudoSrc.MapValue)) {
      wasMapLoad = true;
      bytes.fill(0, at + 4, at + 8);
    } else if (wasMapLoad && op === 0 && regs === 0 && bytes[at + 2] === 0 && bytes[at + 3] === 0) {
      wasMapLoad = false;
      bytes.fill(0, at + 4, at + 8);
    } else {
      wasMapLoad = false;
    }
  }
  const digest = algorithm === 'sha1' ? sha1(bytes) : sha256(bytes);
  let out = '';
  for (let i = 0; i < 8; i++) out += digest[i]!.toString(16).padStart(2, '0');
  return out;
}

/** True when `tag` (from `bpf_prog_info`) is this program's tag under either kernel's hash. */
export function matchesTag(input: Uint8Array | readonly Instruction[], tag: string): boolean {
  const t = tag.toLowerCase();
  return programTag(input, 'sha256') === t || programTag(input, 'sha1') === t;
}
