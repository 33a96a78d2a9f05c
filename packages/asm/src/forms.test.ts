import { describe, expect, it } from 'vitest';
import { forms } from '../test/forms.ts';
import { assemble, decode, disassemble, encode } from './index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('instruction forms', () => {
  it.each(forms.map((f) => [f.name, f] as const))('%s', (_name, form) => {
    const insn = form.build();
    const bytes = encode([insn]);
    expect(hex(bytes)).toBe(form.bytes);
    expect(decode(bytes)).toEqual([insn]);
    expect(disassemble(bytes)).toBe(`${form.text}\n`);
    expect(disassemble(bytes, { alu32: true })).toBe(`${form.alu32Text}\n`);
    expect(hex(assemble(form.text))).toBe(form.bytes);
    expect(hex(assemble(form.alu32Text))).toBe(form.bytes);
    // big-endian round trip
    const be = encode([insn], { byteOrder: 'big' });
    expect(decode(be, { byteOrder: 'big' })).toEqual([insn]);
  });
});
