import { describe, expect, it } from 'vitest';
import { explainVerifierError } from './commands/run.ts';
import { disassembleXlated } from './kernel.ts';
import { memoryIo } from './testing.ts';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

describe('translated dumps', () => {
  it('number slots, name helper calls, and show kernel-internal instructions raw', () => {
    const bytes = hex(`
      bf16000000000000
      85000000a0000000
      bf00ffff00000000
      1811000001000000 0000000000000000
      9500000000000000`);
    const text = disassembleXlated(
      bytes,
      (imm) => (imm === 0xa0 ? 'bpf_xdp_get_buff_len' : undefined),
      (id) => (id === 1 ? 'counters' : undefined),
    );
    expect(text.split('\n')).toEqual([
      '   0: r6 = r1',
      '   1: call 0xa0   ; bpf_xdp_get_buff_len',
      '   2: .8byte 0xbf00ffff00000000   ; kernel-internal instruction',
      expect.stringMatching(/^ {3}3: .*; map id 1 \(counters\)$/),
      '   5: exit',
      '',
    ]);
  });
});

describe('verifier errors', () => {
  it('mark the failing instruction by slot, counting lddw as two', () => {
    const bytes = hex(`
      1801000001000000 0000000000000000
      6120000000000000
      9500000000000000`);
    const lines = explainVerifierError(
      {
        log: '0: (18) r1 = 0x1\n2: (61) r0 = *(u32 *)(r2 +0)\nR2 !read_ok',
        instruction: 2,
        summary: 'R2 !read_ok',
      },
      bytes,
      memoryIo(),
    );
    expect(lines[0]).toBe('program:');
    expect(lines[1]).toMatch(/^\s+0: r1 = 0x1 ll$/);
    expect(lines[2]).toMatch(/^>\s+2: [rw]0 = \*\(u32 \*\)\(r2 \+ 0x0\)\s+<-- R2 !read_ok$/);
    expect(lines[3]).toMatch(/^\s+3: exit$/);
    expect(lines[4]).toBe('verifier log (last 3 of 3 lines):');
  });
});
