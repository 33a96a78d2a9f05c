import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseVerifierLog } from './verifier-log.ts';

/** Logs captured from Linux 6.18 (BPF_PROG_LOAD with log_level 1 or 2) for known-bad programs. */
const log = (name: string) => readFileSync(new URL(`./testdata/${name}.log`, import.meta.url), 'utf8');

describe('parseVerifierLog', () => {
  const cases: Array<{
    name: string;
    instruction: number | undefined;
    text?: string;
    summary: string;
    count?: number;
  }> = [
    { name: 'r0-not-initialized', instruction: 0, text: 'exit', summary: 'R0 !read_ok' },
    {
      name: 'unknown-func',
      instruction: 0,
      text: 'call unknown#999999',
      summary: 'invalid func unknown#999999',
    },
    {
      name: 'helper-not-allowed',
      instruction: 0,
      text: 'call bpf_xdp_adjust_head#44',
      summary: 'program of this type cannot use helper bpf_xdp_adjust_head#44',
    },
    { name: 'unreachable', instruction: 2, summary: 'unreachable insn 2' },
    { name: 'jump-out-of-range', instruction: 0, summary: 'jump out of range from insn 0 to 6' },
    {
      name: 'infinite-loop',
      instruction: 1,
      text: 'if r0 == 0x0 goto pc-2',
      summary: 'infinite loop detected at insn 1',
    },
    {
      name: 'packet-out-of-bounds',
      instruction: 1,
      text: 'r0 = *(u8 *)(r2 +0)',
      summary:
        'invalid access to packet, off=0 size=1, R2(id=0,off=0,r=0); R2 offset is outside of the packet',
    },
    {
      name: 'map-value-out-of-bounds',
      instruction: 8,
      text: 'r0 = *(u64 *)(r0 +8)',
      summary:
        'invalid access to map value, value_size=8 off=8 size=8; R0 min value is outside of the allowed memory range',
    },
    { name: 'unknown-opcode', instruction: undefined, summary: 'unknown opcode ff' },
    {
      name: 'bad-return-value',
      instruction: 1,
      text: 'exit',
      summary: 'At program exit the register R0 has smin=5 smax=5 should have been in [0, 1]',
    },
    {
      name: 'uninitialized-register-level2',
      instruction: 1,
      text: 'r0 = *(u32 *)(r2 +0)',
      summary: 'R2 !read_ok',
    },
    { name: 'no-exit', instruction: 0, summary: 'last insn is not an exit or jmp', count: 1 },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const parsed = parseVerifierLog(log(c.name), c.count);
      expect(parsed.summary).toBe(c.summary);
      expect(parsed.instruction).toBe(c.instruction);
      if (c.text !== undefined) expect(parsed.instructionText).toBe(c.text);
    });
  }

  it('keeps the raw error lines, state dumps included', () => {
    expect(parseVerifierLog(log('infinite-loop')).errorLines).toEqual([
      'infinite loop detected at insn 1',
      'cur state: R0=0 R1=ctx() R10=fp0',
      'old state: R0=P0 R1=ctx() R10=fp0',
    ]);
  });

  it('copes with an empty log and with a log cut at the front', () => {
    expect(parseVerifierLog('')).toMatchObject({
      instruction: undefined,
      summary: 'the verifier left no log',
    });
    const tail = log('map-value-out-of-bounds').split('\n').slice(8).join('\n');
    expect(parseVerifierLog(tail).instruction).toBe(8);
  });
});
