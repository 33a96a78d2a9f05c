import { Btf } from '@ebpf/btf';
import { EM_AARCH64, EM_BPF, EM_X86_64 } from '@ebpf/object';
import { btfOfSource, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import {
  encodeUsdtSpec,
  libbpfUsdtSpecLayout,
  parseUsdtArgs,
  type UsdtArg,
  usdtSpecLayout,
} from './usdt-spec.ts';

const arg = (
  kind: UsdtArg['kind'],
  size: number,
  signed: boolean,
  value: bigint,
  register?: string,
  registerOffset = 0,
) => ({
  kind,
  size,
  signed,
  value,
  register,
  registerOffset,
});

describe('parseUsdtArgs', () => {
  it.each([
    ['-4@%edi', arg('register', 4, true, 0n, 'edi', 112)],
    ['8@%rax', arg('register', 8, false, 0n, 'rax', 80)],
    ['-1@%al', arg('register', 1, true, 0n, 'al', 80)],
    ['2@%r12w', arg('register', 2, false, 0n, 'r12w', 24)],
    ['8@%rip', arg('register', 8, false, 0n, 'rip', 128)],
    ['8@-8(%rbp)', arg('memory', 8, false, -8n, 'rbp', 32)],
    ['-4@1204(%rsp)', arg('memory', 4, true, 1204n, 'rsp', 152)],
    ['8@(%rdx)', arg('memory', 8, false, 0n, 'rdx', 96)],
    ['4@$5', arg('constant', 4, false, 5n)],
    ['-4@$-9', arg('constant', 4, true, -9n)],
    ['8@$1234605616436508552', arg('constant', 8, false, 1234605616436508552n)],
  ])('x86-64 %s', (spec, expected) => {
    expect(parseUsdtArgs(spec, EM_X86_64, 'p:n')).toEqual([expected]);
  });

  it.each([
    ['-4@x0', arg('register', 4, true, 0n, 'x0', 0)],
    ['8@x30', arg('register', 8, false, 0n, 'x30', 240)],
    ['8@sp', arg('register', 8, false, 0n, 'sp', 248)],
    ['-1@[sp, 15]', arg('memory', 1, true, 15n, 'sp', 248)],
    ['8@[x29, -16]', arg('memory', 8, false, -16n, 'x29', 232)],
    ['-8@[sp]', arg('memory', 8, true, 0n, 'sp', 248)],
    ['-4@-9', arg('constant', 4, true, -9n)],
  ])('arm64 %s', (spec, expected) => {
    expect(parseUsdtArgs(spec, EM_AARCH64, 'p:n')).toEqual([expected]);
  });

  it('reads every argument of a site, the spaces of arm64 memory operands included', () => {
    expect(parseUsdtArgs('-1@[sp, 15] 2@[sp, 12] -4@x0', EM_AARCH64, 'p:n').map((a) => a.kind)).toEqual([
      'memory',
      'memory',
      'register',
    ]);
    expect(parseUsdtArgs(' -4@%edi  8@-8(%rbp) ', EM_X86_64, 'p:n')).toHaveLength(2);
    expect(parseUsdtArgs('', EM_X86_64, 'p:n')).toEqual([]);
  });

  it.each([
    ['8@%rax junk', /argument 2 'junk'.*not SIZE@OPERAND/],
    ['3@%eax', /the size 3 is not 1, 2, 4 or 8/],
    ['1@%ah', /the register 'ah' is not one a BPF program can read/],
    ['8@-8(%rbp,%rax,8)', /'8@-8\(%rbp,%rax,8\)'.*constants, registers and memory/],
    ['8@counter(%rip)', /'8@counter\(%rip\)'/],
  ])('refuses %s, naming the probe and the spec', (spec, message) => {
    const run = () => parseUsdtArgs(spec, EM_X86_64, 'test:probe in /bin/x');
    expect(run).toThrow(InvalidArgumentError);
    expect(run).toThrow(/^USDT probe test:probe in \/bin\/x: cannot read argument/);
    expect(run).toThrow(message);
  });

  it('refuses machines it has no registers for', () => {
    expect(() => parseUsdtArgs('4@r1', EM_BPF, 'p:n')).toThrow(/ELF machine 247 cannot be read/);
  });
});

describe('encodeUsdtSpec', () => {
  it('writes struct __bpf_usdt_spec as usdt.bpf.h reads it', () => {
    const args = parseUsdtArgs('-4@%edi 8@-8(%rbp) 1@$200', EM_X86_64, 'p:n');
    const bytes = encodeUsdtSpec(libbpfUsdtSpecLayout, args, 0xabcdn, 'p:n');
    const view = new DataView(bytes.buffer);
    expect(bytes.length).toBe(208);
    // args[0]: a 4-byte signed register: REG, reg_off 112, signed, shift 32.
    expect([
      view.getBigUint64(0, true),
      view.getUint32(8, true),
      view.getInt16(12, true),
      bytes[14],
      bytes[15],
    ]).toEqual([0n, 1, 112, 1, 32]);
    // args[1]: memory at rbp-8: REG_DEREF, val_off -8.
    expect([
      view.getBigInt64(16, true),
      view.getUint32(24, true),
      view.getInt16(28, true),
      bytes[30],
      bytes[31],
    ]).toEqual([-8n, 2, 32, 0, 0]);
    // args[2]: the constant 200 in one unsigned byte.
    expect([view.getBigUint64(32, true), view.getUint32(40, true), bytes[47]]).toEqual([200n, 0, 56]);
    expect(view.getBigUint64(192, true)).toBe(0xabcdn);
    expect(view.getInt16(200, true)).toBe(3);
  });

  it('refuses more arguments than args[] holds', () => {
    const args = parseUsdtArgs(Array(13).fill('4@$1').join(' '), EM_X86_64, 'p:n');
    expect(() => encodeUsdtSpec(libbpfUsdtSpecLayout, args, 0n, 'p:n')).toThrow(
      /13 arguments; usdt.bpf.h reads at most 12/,
    );
  });
});

describe('usdtSpecLayout', () => {
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());
  const header = [
    '#define __TARGET_ARCH_x86',
    '#include <stdbool.h>',
    '#include <linux/bpf.h>',
    '#include <linux/ptrace.h>',
    '#include <bpf/bpf_helpers.h>',
    '#include <bpf/usdt.bpf.h>',
    'SEC("usdt") int p(struct pt_regs *ctx) { return bpf_usdt_arg_cnt(ctx); }',
  ].join('\n');

  it("of usdt.bpf.h's BTF is libbpf 1.1's layout", () => {
    expect(usdtSpecLayout(Btf.parse(btfOfSource(scratch, 'usdt-layout', header)))).toEqual(
      libbpfUsdtSpecLayout,
    );
  });

  it('follows the BTF, and refuses a struct that is not the header’s', () => {
    expect(usdtSpecLayout(undefined)).toBe(libbpfUsdtSpecLayout);
    const other = btfOfSource(
      scratch,
      'other',
      'struct __bpf_usdt_spec { long usdt_cookie; short arg_cnt; } x;',
    );
    expect(() => usdtSpecLayout(Btf.parse(other))).toThrow(
      /not the one libbpf's usdt.bpf.h declares \(no args array\)/,
    );
  });
});
