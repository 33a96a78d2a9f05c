import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { encodeFuncInfo, encodeLineInfo } from './btf-info.ts';

describe('BTF records of a program load', () => {
  it('encodes records as the kernel takes them, and passes encoded ones through', () => {
    const funcInfo = encodeFuncInfo([{ insn: 3, typeId: 7 }]);
    expect(Array.from(new Uint32Array((funcInfo as Uint8Array).buffer))).toEqual([3, 7]);
    expect(encodeFuncInfo(funcInfo)).toBe(funcInfo);
    const lineInfo = encodeLineInfo([{ insn: 2, fileNameOff: 5, lineOff: 9, line: 4, column: 6 }]);
    expect(Array.from(new Uint32Array((lineInfo as Uint8Array).buffer))).toEqual([2, 5, 9, (4 << 10) | 6]);
    expect(encodeLineInfo(lineInfo)).toBe(lineInfo);
    expect(encodeFuncInfo(new Uint8Array(0))).toBeUndefined();
  });

  it('refuses encoded records that are not whole records', () => {
    expect(() => encodeFuncInfo(new Uint8Array(12))).toThrow(InvalidArgumentError);
    expect(() => encodeLineInfo(new Uint8Array(8))).toThrow(/not whole 16-byte records/);
  });
});
