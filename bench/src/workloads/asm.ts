/**
 * `@ebpf/asm` throughput, no C counterpart: `asm.encode` (instruction objects to bytes) and
 * `asm.decode` (bytes to instruction objects) in instructions/s, `asm.assemble` (assembler text
 * to a program) in lines/s. The input is a 4,096-instruction mix of ALU, memory, jump, call and
 * 64-bit immediate instructions. Usage: asm.ts asm
 */
import { landed, layerArg, measure, type Prepared } from '../harness.ts';

const IDS = ['asm.encode', 'asm.decode', 'asm.assemble'];

async function prepare(): Promise<Prepared> {
  const asm = await landed('@ebpf/asm', ['assemble']);
  if ('reason' in asm) return asm;
  return { reason: 'waiting for @ebpf/asm' };
}

const layer = layerArg(['asm']);
measure(layer, IDS, await prepare());
