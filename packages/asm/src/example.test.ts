/** The README's example, kept honest. */
import { expect, it } from 'vitest';
import {
  add64,
  assemble,
  assembleProgram,
  atomicAdd64,
  call,
  decode,
  disassemble,
  exit,
  jeq,
  label,
  ldMapFd,
  link,
  mov64,
  R0,
  R1,
  R2,
  R10,
  stw,
} from './index.ts';

it('the README example does what the README says', () => {
  const program = link([
    stw(R10, -4, 0),
    ldMapFd(R1, 'counters'),
    mov64(R2, R10),
    add64(R2, -4),
    call('map_lookup_elem'),
    jeq(R0, 0, 'out'),
    mov64(R1, 1),
    atomicAdd64(R0, 0, R1),
    label('out'),
    mov64(R0, 2),
    exit(),
  ]);
  expect(program.references()).toEqual([{ kind: 'map', name: 'counters', index: 1, slot: 1, pseudo: 1 }]);
  const mapFd = 5;
  const loaded = program.resolveMaps((name) => (name === 'counters' ? mapFd : undefined));
  const bytes = loaded.encode();
  expect(bytes.length).toBe(88);
  expect(program.toString()).toBe(
    [
      '*(u32 *)(r10 - 0x4) = 0x0',
      'r1 = counters ll',
      'r2 = r10',
      'r2 += -0x4',
      'call 0x1',
      'if r0 == 0x0 goto +0x2 <out>',
      'r1 = 0x1',
      'lock *(u64 *)(r0 + 0x0) += r1',
      'out:',
      'r0 = 0x2',
      'exit',
      '',
    ].join('\n'),
  );
  expect(assemble(disassemble(bytes))).toEqual(bytes);
  expect(decode(bytes)).toEqual(
    loaded.instructions.map(({ op, dst, src, off, imm }) => ({ op, dst, src, off, imm })),
  );
  expect(
    assembleProgram(program.toString())
      .resolveMaps(() => mapFd)
      .encode(),
  ).toEqual(bytes);
});
