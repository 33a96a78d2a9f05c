import { encode, exit, ja, label, ldMapFd, ldMapValue, link, mov64, PseudoSrc, R0, R1 } from '@ebpf/asm';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { encodeInstructions } from './instructions.ts';

describe('encodeInstructions', () => {
  it('encodes builders output, linking labels', () => {
    const bytes = encodeInstructions([ja('end'), mov64(R0, 1), label('end'), mov64(R0, 2), exit()], {});
    expect(bytes.length).toBe(32);
    expect(bytes[0]).toBe(0x05);
    expect(new DataView(bytes.buffer).getInt16(2, true)).toBe(1);
  });

  it('takes an assembled program', () => {
    const program = link([mov64(R0, 0), exit()]);
    expect(encodeInstructions(program, {}).length).toBe(16);
  });

  it('fills map references with the fds of the maps given by name', () => {
    const bytes = encodeInstructions(
      [ldMapFd(R1, 'counts'), ldMapValue(R1, 'config', 8), mov64(R0, 0), exit()],
      {
        counts: { fd: 7 },
        config: { fd: 9 },
      },
    );
    const view = new DataView(bytes.buffer);
    expect(bytes[1]).toBe((PseudoSrc.MapFd << 4) | 1);
    expect(view.getInt32(4, true)).toBe(7);
    expect(bytes[17]).toBe((PseudoSrc.MapValue << 4) | 1);
    expect(view.getInt32(20, true)).toBe(9);
    expect(view.getInt32(28, true)).toBe(8);
  });

  it('encodes a label-free list like encode(), and a linked program with jumps and maps like its unlinked list', () => {
    const plain = [mov64(R0, 1), mov64(R0, 2), exit()];
    expect([...encodeInstructions(plain, {})]).toEqual([...encode(plain)]);
    const items = [ldMapFd(R1, 'counts'), ja('end'), mov64(R0, 1), label('end'), mov64(R0, 0), exit()];
    const maps = { counts: { fd: 5 } };
    const fromList = encodeInstructions(items, maps);
    expect([...encodeInstructions(link(items), maps)]).toEqual([...fromList]);
    expect(new DataView(fromList.buffer).getInt32(4, true)).toBe(5);
    expect(new DataView(fromList.buffer).getInt16(18, true)).toBe(1);
  });

  it('refuses invalid instructions and items that are not instructions', () => {
    expect(() => encodeInstructions([{ ...mov64(R0, 1), dst: 11 }, exit()], {})).toThrow(
      /instructions: .*r11/,
    );
    expect(() => encodeInstructions([null as never, exit()], {})).toThrow();
    expect(() => encodeInstructions({ instructions: [{ ...exit(), imm: 1 }] } as never, {})).toThrow(
      InvalidArgumentError,
    );
  });

  it('passes bytecode through and checks its length', () => {
    const raw = new Uint8Array(16);
    expect(encodeInstructions(raw, {})).toBe(raw);
    expect(() => encodeInstructions(new Uint8Array(0), {})).toThrow(/non-empty multiple of 8/);
    expect(() => encodeInstructions(new Uint8Array(9), {})).toThrow(/non-empty multiple of 8/);
  });

  it('names what is missing or wrong', () => {
    expect(() => encodeInstructions([], {})).toThrow(InvalidArgumentError);
    expect(() => encodeInstructions([ldMapFd(R1, 'counts'), exit()], { other: { fd: 3 } })).toThrow(
      "instructions[0] refers to map 'counts', which is not in maps (other)",
    );
    expect(() => encodeInstructions([ja('nowhere'), exit()], {})).toThrow(/instructions: .*nowhere/);
    expect(() => encodeInstructions({} as never, {})).toThrow(InvalidArgumentError);
  });
});

describe('encodeInstructions refuses what is not a program', () => {
  it('says an ELF object is not raw instructions', () => {
    const elf = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0);
    expect(() => encodeInstructions(elf, {})).toThrow(
      /instructions: this is an ELF object file, not raw instructions: load it with Collection.load/,
    );
  });

  it('says a map option must be a map, naming what it got', () => {
    const program = [ldMapFd(R1, 'counts'), mov64(R0, 0), exit()];
    expect(() => encodeInstructions(program, { counts: 5 as never })).toThrow(
      /maps\.counts must be a BpfMap \(an object with an fd\), got number 5/,
    );
    expect(() => encodeInstructions(program, {})).toThrow(/instructions\[0\] refers to map 'counts'/);
  });
});
