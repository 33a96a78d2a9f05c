/**
 * `@ebpf/asm` throughput, no C counterpart: `asm.encode` (instruction objects to bytes) and
 * `asm.decode` (bytes to instruction objects) in instructions/s, `asm.assemble` (LLVM-syntax text
 * to bytes) in lines/s. The input is 4,096 lines mixing ALU, memory, jump, call, 64-bit immediate
 * and exit instructions. Each result is checked against the first one (encode(decode(bytes))
 * must give the assembled bytes back). Usage: asm.ts asm
 */
import type * as Asm from '@ebpf/asm';
import { check, landed, layerArg, measure, type Prepared, quick } from '../harness.ts';

const IDS = ['asm.encode', 'asm.decode', 'asm.assemble'];
const LINES = 4_096;
const REPEAT = quick ? 10 : 50;
const ASSEMBLE_REPEAT = quick ? 1 : 5;

const mix = [
  'r0 = 0',
  'r1 = r10',
  'r1 += -8',
  '*(u64 *)(r10 - 8) = r0',
  'r2 = *(u32 *)(r1 + 0)',
  'if r2 > 10 goto +1',
  'w3 = w2',
  'r0 += 1',
  'call 1',
  'r4 = 0x123456789 ll',
  'r5 <<= 3',
  'exit',
];

/** The program text: `LINES` lines cycling through `mix`. */
function source(): string {
  const lines: string[] = [];
  for (let i = 0; i < LINES; i++) lines.push(mix[i % mix.length]!);
  return `${lines.join('\n')}\n`;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function prepare(): Promise<Prepared> {
  const landedAsm = await landed<typeof Asm>('@ebpf/asm', ['assemble', 'encode', 'decode']);
  if ('reason' in landedAsm) return landedAsm;
  const { assemble, encode, decode } = landedAsm.mod;
  const text = source();
  const bytes = assemble(text);
  const instructions = decode(bytes);
  const count = instructions.length;
  check(equal(encode(instructions), bytes), 'encode(decode(bytes)) gives the bytes back');
  let sink = 0;
  return {
    timed: [
      {
        id: IDS[0]!,
        unit: 'ops/s',
        ops: REPEAT * count,
        loop() {
          let out: Uint8Array = bytes;
          for (let r = 0; r < REPEAT; r++) out = encode(instructions);
          check(equal(out, bytes), 'encode');
        },
      },
      {
        id: IDS[1]!,
        unit: 'ops/s',
        ops: REPEAT * count,
        loop() {
          for (let r = 0; r < REPEAT; r++) sink += decode(bytes).length;
          check(sink % count === 0, 'decode');
        },
      },
      {
        id: IDS[2]!,
        unit: 'ops/s',
        ops: ASSEMBLE_REPEAT * LINES,
        loop() {
          let out: Uint8Array = bytes;
          for (let r = 0; r < ASSEMBLE_REPEAT; r++) out = assemble(text);
          check(equal(out, bytes), 'assemble');
        },
      },
    ],
  };
}

const layer = layerArg(['asm']);
measure(layer, IDS, await prepare());
