import { kernelBtf } from '@ebpf/btf/node';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { bpfRunOk } from '../test/bpf-run.ts';
import {
  add64,
  assemble,
  assembleProgram,
  atomicAdd64,
  atomicCmpxchg64,
  atomicFetchAdd32,
  atomicFetchAdd64,
  atomicFetchAnd64,
  atomicFetchOr64,
  atomicFetchXor64,
  atomicXchg64,
  call,
  callFunc,
  exit,
  func,
  type Item,
  jeq,
  jeq32,
  jne,
  label,
  lddw,
  ldMapFd,
  ldMapIdx,
  ldMapIdxValue,
  ldxdw,
  ldxw,
  link,
  mov64,
  programTag,
  R0,
  R1,
  R2,
  R6,
  R10,
  rsh64,
  stdw,
  stw,
  stxdw,
  sub64,
  W1,
} from './index.ts';

/** `if reg != value return code` (reg compared as 64 bits with a sign-extended immediate). */
const check = (reg: typeof R0, value: number, code: number): Item[] => [
  jeq(reg, value, 2),
  mov64(R0, code),
  exit(),
];

requireKernel('programs built with @ebpf/asm run on the kernel', () => {
  it('a loop: sums 1..10', () => {
    const program = link([
      mov64(R0, 0),
      mov64(R1, 10),
      label('loop'),
      add64(R0, R1),
      sub64(R1, 1),
      jne(R1, 0, 'loop'),
      exit(),
    ]);
    const r = bpfRunOk(program.encode());
    expect(r.retval).toBe(55);
    expect(r.tag).toBe(program.tag());
  });

  it('a helper call through a map reference resolved to fd_array', () => {
    const program = link([
      stw(R10, -4, 0), // key 0
      ldMapFd(R1, 'counters'),
      mov64(R2, R10),
      add64(R2, -4),
      call('map_lookup_elem'),
      jne(R0, 0, 'found'),
      exit(),
      label('found'),
      mov64(R1, 5),
      atomicAdd64(R0, 0, R1),
      mov64(R1, 7),
      atomicFetchAdd64(R0, 0, R1), // r1 = 5 (old), value = 12
      stxdw(R0, 8, R1),
      mov64(R0, R1),
      exit(),
    ]);
    expect(program.references()).toEqual([{ kind: 'map', name: 'counters', index: 1, slot: 1, pseudo: 1 }]);
    const resolved = program.resolveMaps((name) => (name === 'counters' ? 0 : undefined), { as: 'index' });
    const r = bpfRunOk(resolved.encode(), { maps: [{ valueSize: 16, entries: 1 }] });
    expect(r.retval).toBe(5);
    expect(r.tag).toBe(resolved.tag());
    expect(r.maps[0]![0]).toBe('0c000000000000000500000000000000');
  });

  it('atomics on the stack: add, and, or, xor, fetch variants, xchg and cmpxchg', () => {
    const program = link([
      stdw(R10, -8, 10),
      mov64(R1, 5),
      atomicFetchAdd64(R10, -8, R1), // r1 = 10, *fp-8 = 15
      ...check(R1, 10, 1),
      mov64(R1, 0x0c),
      atomicFetchAnd64(R10, -8, R1), // r1 = 15, *fp-8 = 12
      ...check(R1, 15, 2),
      mov64(R1, 0x30),
      atomicFetchOr64(R10, -8, R1), // r1 = 12, *fp-8 = 0x3c
      ...check(R1, 12, 3),
      mov64(R1, 0xff),
      atomicFetchXor64(R10, -8, R1), // r1 = 0x3c, *fp-8 = 0xc3
      ...check(R1, 0x3c, 4),
      mov64(R1, 99),
      atomicXchg64(R10, -8, R1), // r1 = 0xc3, *fp-8 = 99
      ...check(R1, 0xc3, 5),
      mov64(R0, 99),
      mov64(R1, 7),
      atomicCmpxchg64(R10, -8, R1), // equal: r0 = 99, *fp-8 = 7
      mov64(R6, R0),
      ...check(R6, 99, 6),
      mov64(R0, 1),
      atomicCmpxchg64(R10, -8, R1), // not equal: r0 = 7, unchanged
      mov64(R6, R0),
      ...check(R6, 7, 7),
      stw(R10, -16, -1),
      mov64(R1, 1),
      atomicFetchAdd32(R10, -16, W1), // w1 = 0xffffffff, *fp-16 = 0
      jeq32(W1, -1, 2), // w1 = 0xffffffff
      mov64(R0, 8),
      exit(),
      rsh64(R1, 32), // and the upper half is zero
      ...check(R1, 0, 10),
      ldxw(R2, R10, -16),
      ...check(R2, 0, 9),
      ldxdw(R0, R10, -8),
      exit(),
    ]);
    const r = bpfRunOk(program.encode());
    expect(r.retval).toBe(7);
  });

  it("BPF-to-BPF calls, with a pointer to the caller's stack", () => {
    // Function addresses (ldFuncAddr, for bpf_loop callbacks) need BTF func_info, which is the
    // loader's business: the kernel refuses them without it, so they are tested for encoding only.
    const program = link([
      mov64(R1, 21),
      callFunc('double'),
      mov64(R6, R0), // 42
      stdw(R10, -8, 0),
      mov64(R1, R10),
      add64(R1, -8),
      callFunc('bump'),
      mov64(R1, R10),
      add64(R1, -8),
      callFunc('bump'),
      ldxdw(R0, R10, -8), // 2
      add64(R0, R6),
      exit(),
      func('double'),
      mov64(R0, R1),
      add64(R0, R1),
      exit(),
      func('bump'), // (u64 *counter)
      mov64(R2, 5),
      atomicAdd64(R1, 0, R2),
      mov64(R0, 0),
      exit(),
    ]);
    const r = bpfRunOk(program.encode());
    expect(r.retval).toBe(52);
    expect(program.instructions.at(-1)?.meta?.func).toBe('bump');
    expect(r.tag).toBe(program.tag());
  });

  it('the tag of a program loading maps by fd_array index (not zeroed, unlike fds)', () => {
    const program = link([ldMapIdx(R1, 1), ldMapIdxValue(R1, 1, 8), mov64(R0, 0), exit()]);
    const maps = [
      { valueSize: 16, entries: 1 },
      { valueSize: 16, entries: 1 },
    ];
    expect(bpfRunOk(program.encode(), { maps }).tag).toBe(program.tag());
  });

  it('kfunc calls by name, resolved to vmlinux BTF ids', () => {
    const program = assembleProgram(`
      call kfunc bpf_rcu_read_lock
      call kfunc bpf_rcu_read_unlock
      r0 = 7
      exit
    `);
    expect(program.references().map((r) => [r.kind, r.name])).toEqual([
      ['kfunc', 'bpf_rcu_read_lock'],
      ['kfunc', 'bpf_rcu_read_unlock'],
    ]);
    const resolved = program.resolveKfuncs((name) => kernelBtf().typesByName(name, 'func')[0]?.id);
    expect(resolved.references()).toEqual([]);
    expect(bpfRunOk(resolved.encode()).retval).toBe(7);
  });

  it('a 64-bit immediate and the tag of a program with lddw', () => {
    const program = link([lddw(R0, 0x1122334455667788n), exit()]);
    const r = bpfRunOk(program.encode());
    expect(r.retval).toBe(0x55667788);
    expect(r.tag).toBe(programTag(program.encode()));
  });
});

/** Programs in assembly text, one check per step: `r0` names the step, a failed check returns it. */
const v4 = `
  r0 = 1
  r1 = -7
  r1 s/= 2
  if r1 != -3 goto fail
  r0 = 2
  w1 = -7
  w1 s%= 4
  if w1 != -3 goto fail
  r0 = 3
  r2 = 0xff
  r1 = (s8)r2
  if r1 != -1 goto fail
  r0 = 4
  r2 = 0x8000
  r1 = (s16)r2
  if r1 != -32768 goto fail
  r0 = 5
  r2 = 0xfffffffe ll
  r1 = (s32)r2
  if r1 != -2 goto fail
  r0 = 6
  w2 = 0x1ff
  w1 = (s8)w2
  if w1 != -1 goto fail
  r1 >>= 32
  if r1 != 0 goto fail_zext
  r0 = 7
  r1 = 0x1234
  r1 = bswap16 r1
  if r1 != 0x3412 goto fail
  r0 = 8
  r1 = 0x11223344
  r1 = bswap32 r1
  if r1 != 0x44332211 goto fail
  r0 = 9
  r1 = 0x0102030405060708 ll
  r1 = bswap64 r1
  r2 = 0x0807060504030201 ll
  if r1 != r2 goto fail
  r0 = 10
  *(u64 *)(r10 - 8) = -2
  r1 = *(s8 *)(r10 - 8)
  if r1 != -2 goto fail
  r1 = *(s16 *)(r10 - 8)
  if r1 != -2 goto fail
  r1 = *(s32 *)(r10 - 8)
  if r1 != -2 goto fail
  r0 = 11
  *(u32 *)(r10 - 16) = 0x12345678
  *(u16 *)(r10 - 12) = 0x9abc
  *(u8 *)(r10 - 10) = 0xde
  w1 = *(u32 *)(r10 - 16)
  if w1 != 0x12345678 goto fail
  w1 = *(u16 *)(r10 - 12)
  if w1 != 0x9abc goto fail
  w1 = *(u8 *)(r10 - 10)
  if w1 != 0xde goto fail
  r0 = 12
  r1 = 0x10
  if r1 & 0x30 goto jset_ok
  goto fail
jset_ok:
  w2 = 0x20
  if w1 & w2 goto fail
  r0 = 13
  gotol forward
back:
  goto after
forward:
  gotol back
after:
  r0 = 14
  *(u64 *)(r10 - 8) = 10
  r1 = 3
  r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
  if r1 != 10 goto fail
  w1 = 6
  *(u32 *)(r10 - 16) = 5
  w1 = atomic_fetch_xor((u32 *)(r10 - 16), w1)
  if w1 != 5 goto fail
  w1 = *(u32 *)(r10 - 16)
  if w1 != 3 goto fail
  r0 = 15
  r1 = 8
  r1 = xchg_64(r10 - 8, r1)
  if r1 != 13 goto fail
  w1 = 9
  w1 = xchg32_32(r10 - 16, w1)
  if w1 != 3 goto fail
  r0 = 16
  r6 = r0
  w0 = 9
  w1 = 1
  w0 = cmpxchg32_32(r10 - 16, w0, w1)
  if w0 != 9 goto fail_r6
  w1 = *(u32 *)(r10 - 16)
  if w1 != 1 goto fail_r6
  r0 = 17
  r1 = r10
  r1 += -8
  r2 = load_acquire((u64 *)(r1 + 0x0))
  if r2 != 8 goto fail
  w3 = 77
  store_release((u32 *)(r1 + 0x0), w3)
  w2 = load_acquire((u32 *)(r1 + 0x0))
  if w2 != 77 goto fail
  w2 = load_acquire((u8 *)(r1 + 0x0))
  if w2 != 77 goto fail
  r0 = 19
  r1 = -9
  r2 = 2
  r1 s/= r2
  if r1 != -4 goto fail
  w1 = -9
  w1 s/= 2
  if w1 != -4 goto fail
  w1 = -9
  w2 = 2
  w1 s/= w2
  if w1 != -4 goto fail
  r0 = 20
  r1 = -9
  r1 s%= 4
  if r1 != -1 goto fail
  r1 = -9
  r2 = 4
  r1 s%= r2
  if r1 != -1 goto fail
  w1 = -9
  w2 = 4
  w1 s%= w2
  if w1 != -1 goto fail
  r0 = 21
  w2 = 0x18000
  w1 = (s16)w2
  if w1 != -32768 goto fail
  r0 = 22
  r1 = 6
  r2 = 4
  if r1 & r2 goto jset64_ok
  goto fail
jset64_ok:
  w1 = 6
  if w1 & 1 goto fail
  r0 = 23
  r1 = r10
  r1 += -8
  w3 = 0x1234
  store_release((u16 *)(r1 + 0x0), w3)
  w2 = load_acquire((u16 *)(r1 + 0x0))
  if w2 != 0x1234 goto fail
  w3 = 0x56
  store_release((u8 *)(r1 + 0x0), w3)
  w2 = load_acquire((u8 *)(r1 + 0x0))
  if w2 != 0x56 goto fail
  r3 = -5
  store_release((u64 *)(r1 + 0x0), r3)
  r2 = load_acquire((u64 *)(r1 + 0x0))
  if r2 != -5 goto fail
  r0 = 18
again:
  may_goto +1
  goto again
  r0 = 0
  exit
fail_r6:
  r0 = r6
  exit
fail_zext:
  r0 = 100
fail:
  exit
`;

requireKernel('cpu v4 forms newer than LLVM 16, in assembly text, run on the kernel', () => {
  it('every check passes (r0 = 0; otherwise r0 names the failing step)', () => {
    const program = assembleProgram(v4);
    const r = bpfRunOk(program.encode());
    expect(r.retval).toBe(0);
    expect(r.tag).toBe(programTag(assemble(v4)));
  });

  it('legacy packet loads in a socket filter', () => {
    const text = `
      r6 = r1
      r0 = *(u8 *)skb[0x1]
      r7 = r0
      r1 = 2
      r0 = *(u16 *)skb[r1 + 0x1]
      r7 <<= 16
      r0 |= r7
      exit
    `;
    const r = bpfRunOk(assemble(text));
    // data[i] = i; socket filters see the packet after the Ethernet header (14 bytes)
    expect(r.retval).toBe((15 << 16) | (17 << 8) | 18);
  });
});
