/**
 * What a USDT program needs to read its arguments: each site's argument specs (`-4@%edi`,
 * `8@-8(%rbp)`, `4@$5`; arm64 `8@x1`, `4@[sp, 12]`, `4@5`) parsed as libbpf's usdt.c parses
 * them, and written into the `struct __bpf_usdt_spec` that libbpf's usdt.bpf.h looks up by the
 * attach cookie: a constant, a register (its offset in `struct pt_regs`) or memory at a
 * register plus an offset, with the size and sign the program widens the value to 64 bits by.
 * Pure: no kernel, no files.
 */
import type { Btf, Member } from '@ebpf/btf';
import { EM_AARCH64, EM_X86_64 } from '@ebpf/object';
import { InvalidArgumentError } from '../errors.ts';

/** One argument of a probe site, as usdt.bpf.h reads it. */
export interface UsdtArg {
  /** A constant, a register's value, or memory at a register plus `value`. */
  readonly kind: 'constant' | 'register' | 'memory';
  /** The constant, or the offset from the register (0 for `register`). */
  readonly value: bigint;
  /** The register as written (`edi`, `x1`); undefined for a constant. */
  readonly register: string | undefined;
  /** `offsetof(struct pt_regs, <register>)`; 0 for a constant. */
  readonly registerOffset: number;
  /** Bytes of the argument (1, 2, 4 or 8). */
  readonly size: number;
  readonly signed: boolean;
}

/** `enum __bpf_usdt_arg_type`. */
const argTypes = { constant: 0, register: 1, memory: 2 } as const;

/** x86-64 `struct pt_regs`: each register's names (64, 32, 16, 8 bits) and its slot. */
const x86Registers: ReadonlyArray<readonly [readonly string[], number]> = [
  [['r15', 'r15d', 'r15w', 'r15b'], 0],
  [['r14', 'r14d', 'r14w', 'r14b'], 8],
  [['r13', 'r13d', 'r13w', 'r13b'], 16],
  [['r12', 'r12d', 'r12w', 'r12b'], 24],
  [['rbp', 'ebp', 'bp', 'bpl'], 32],
  [['rbx', 'ebx', 'bx', 'bl'], 40],
  [['r11', 'r11d', 'r11w', 'r11b'], 48],
  [['r10', 'r10d', 'r10w', 'r10b'], 56],
  [['r9', 'r9d', 'r9w', 'r9b'], 64],
  [['r8', 'r8d', 'r8w', 'r8b'], 72],
  [['rax', 'eax', 'ax', 'al'], 80],
  [['rcx', 'ecx', 'cx', 'cl'], 88],
  [['rdx', 'edx', 'dx', 'dl'], 96],
  [['rsi', 'esi', 'si', 'sil'], 104],
  [['rdi', 'edi', 'di', 'dil'], 112],
  [['rip'], 128],
  [['rsp', 'esp', 'sp', 'spl'], 152],
];
const x86Offsets = new Map(x86Registers.flatMap(([names, offset]) => names.map((n) => [n, offset] as const)));

/** arm64 `struct pt_regs` (`user_pt_regs` first): x0..x30, then sp. */
function arm64Offset(register: string): number | undefined {
  if (register === 'sp') return 31 * 8;
  const match = /^x(\d+)$/.exec(register);
  const n = match ? Number(match[1]) : -1;
  return n >= 0 && n <= 30 ? n * 8 : undefined;
}

/** How one machine writes an operand: the forms, tried in order. */
interface Dialect {
  readonly constant: RegExp;
  /** Named groups: `register`, and `offset` when there is one. */
  readonly memory: RegExp;
  readonly register: RegExp;
  readonly offset: (register: string) => number | undefined;
}

const dialects: ReadonlyMap<number, Dialect> = new Map([
  [
    EM_X86_64,
    {
      constant: /^\$(-?(?:0x[0-9a-f]+|\d+))$/i,
      memory: /^(?<offset>-?(?:0x[0-9a-f]+|\d+))?\(%(?<register>[a-z0-9]+)\)$/i,
      register: /^%([a-z0-9]+)$/i,
      offset: (register: string) => x86Offsets.get(register),
    },
  ],
  [
    EM_AARCH64,
    {
      constant: /^(-?(?:0x[0-9a-f]+|\d+))$/i,
      memory: /^\[(?<register>[a-z0-9]+)(?:,\s*(?<offset>-?(?:0x[0-9a-f]+|\d+)))?\]$/i,
      register: /^([a-z0-9]+)$/i,
      offset: arm64Offset,
    },
  ],
]);

/** `SIZE@OPERAND`, one at a time; arm64 memory operands hold a space (`[sp, 8]`). */
const argPattern = /\s*(-?\d+)@(\[[^\]]*\]|\S+)/y;

/** A signed decimal or hex number of an operand as a bigint. */
function number(text: string): bigint {
  return text.startsWith('-') ? -BigInt(text.slice(1)) : BigInt(text);
}

/**
 * The arguments of a probe site whose note says `args`, for a binary of ELF `machine`
 * (`EM_X86_64`, `EM_AARCH64`). `probe` names the site in errors: every spec that cannot be
 * read (an addressing form usdt.bpf.h cannot follow, a register it does not know) is an
 * `InvalidArgumentError` naming the probe and the spec.
 */
export function parseUsdtArgs(args: string, machine: number, probe: string): UsdtArg[] {
  const dialect = dialects.get(machine);
  if (dialect === undefined)
    throw new InvalidArgumentError(
      `USDT probe ${probe}: arguments of ELF machine ${machine} cannot be read (x86-64 and arm64 can)`,
    );
  const out: UsdtArg[] = [];
  argPattern.lastIndex = 0;
  while (argPattern.lastIndex < args.length && args.slice(argPattern.lastIndex).trim() !== '') {
    const at = argPattern.lastIndex;
    const match = argPattern.exec(args);
    const fail = (why: string) =>
      new InvalidArgumentError(
        `USDT probe ${probe}: cannot read argument ${out.length + 1} '${(match?.[0] ?? args.slice(at)).trim()}' of '${args}': ${why}`,
      );
    if (match === null) throw fail('it is not SIZE@OPERAND');
    out.push(parseArg(Number(match[1]), match[2] as string, dialect, fail));
  }
  return out;
}

function parseArg(size: number, operand: string, dialect: Dialect, fail: (why: string) => Error): UsdtArg {
  const bytes = Math.abs(size);
  if (![1, 2, 4, 8].includes(bytes))
    throw fail(`the size ${size} is not 1, 2, 4 or 8 bytes (negative: signed)`);
  const base = { size: bytes, signed: size < 0 };
  const registerOffset = (register: string) => {
    const offset = dialect.offset(register.toLowerCase());
    if (offset === undefined) throw fail(`the register '${register}' is not one a BPF program can read`);
    return offset;
  };
  const constant = dialect.constant.exec(operand);
  if (constant)
    return {
      ...base,
      kind: 'constant',
      value: number(constant[1] as string),
      register: undefined,
      registerOffset: 0,
    };
  const memory = dialect.memory.exec(operand);
  if (memory?.groups) {
    const { offset, register } = memory.groups as { offset?: string; register: string };
    return {
      ...base,
      kind: 'memory',
      value: offset === undefined ? 0n : number(offset),
      register,
      registerOffset: registerOffset(register),
    };
  }
  const register = dialect.register.exec(operand);
  if (register)
    return {
      ...base,
      kind: 'register',
      value: 0n,
      register: register[1] as string,
      registerOffset: registerOffset(register[1] as string),
    };
  throw fail('usdt.bpf.h reads constants, registers and memory at a register plus an offset only');
}

/** Where `struct __bpf_usdt_spec` keeps what `encodeUsdtSpec` writes (byte offsets). */
export interface UsdtSpecLayout {
  readonly size: number;
  /** `args[]`: where it starts, how far apart its entries are, how many it has. */
  readonly args: { readonly offset: number; readonly stride: number; readonly count: number };
  /** In each `struct __bpf_usdt_arg_spec`. */
  readonly arg: {
    readonly valOff: Field;
    readonly argType: Field;
    readonly regOff: Field;
    readonly argSigned: Field;
    readonly argBitshift: Field;
  };
  readonly usdtCookie: Field;
  readonly argCnt: Field;
}

/** A member's place and width in bytes. */
interface Field {
  readonly offset: number;
  readonly size: number;
}

/** The layout of libbpf 1.1's usdt.bpf.h, for spec maps that come without the object's BTF. */
export const libbpfUsdtSpecLayout: UsdtSpecLayout = {
  size: 208,
  args: { offset: 0, stride: 16, count: 12 },
  arg: {
    valOff: { offset: 0, size: 8 },
    argType: { offset: 8, size: 4 },
    regOff: { offset: 12, size: 2 },
    argSigned: { offset: 14, size: 1 },
    argBitshift: { offset: 15, size: 1 },
  },
  usdtCookie: { offset: 192, size: 8 },
  argCnt: { offset: 200, size: 2 },
};

/**
 * The layout of `struct __bpf_usdt_spec` as the object's BTF describes it (the header it was
 * built with decides), or libbpf 1.1's when there is no BTF or no such struct in it.
 */
export function usdtSpecLayout(btf: Btf | undefined): UsdtSpecLayout {
  const spec = btf?.typeByName('__bpf_usdt_spec', 'struct');
  if (btf === undefined || spec === undefined || spec.kind !== 'struct') return libbpfUsdtSpecLayout;
  const wrong = (why: string) =>
    new InvalidArgumentError(
      `the object's struct __bpf_usdt_spec is not the one libbpf's usdt.bpf.h declares (${why}): build with libbpf's header`,
    );
  const member = (members: readonly Member[], name: string, base = 0): Field => {
    const found = members.find((m) => m.name === name);
    if (found === undefined || found.bitOffset % 8 !== 0 || found.bitfieldSize !== 0)
      throw wrong(`no byte-aligned member ${name}`);
    return { offset: base + found.bitOffset / 8, size: btf.sizeof(found.type) };
  };
  const argsMember = spec.members.find((m) => m.name === 'args');
  const array = argsMember === undefined ? undefined : btf.resolve(argsMember.type);
  if (argsMember === undefined || array?.kind !== 'array') throw wrong('no args array');
  const argSpec = btf.resolve(array.element);
  if (argSpec.kind !== 'struct') throw wrong('args is not an array of struct __bpf_usdt_arg_spec');
  const { members } = argSpec;
  return {
    size: spec.size,
    args: { offset: member(spec.members, 'args').offset, stride: argSpec.size, count: array.count },
    arg: {
      valOff: member(members, 'val_off'),
      argType: member(members, 'arg_type'),
      regOff: member(members, 'reg_off'),
      argSigned: member(members, 'arg_signed'),
      argBitshift: member(members, 'arg_bitshift'),
    },
    usdtCookie: member(spec.members, 'usdt_cookie'),
    argCnt: member(spec.members, 'arg_cnt'),
  };
}

/** Writes `value` little-endian into `field` of `out` at `base` (truncated to the field's width). */
function put(out: DataView, base: number, field: Field, value: bigint | number): void {
  let v = BigInt.asUintN(field.size * 8, BigInt(value));
  for (let i = 0; i < field.size; i++, v >>= 8n) out.setUint8(base + field.offset + i, Number(v & 0xffn));
}

/**
 * The `struct __bpf_usdt_spec` value for a site with `args` and the user's `cookie` (what
 * `bpf_usdt_cookie()` returns), in `layout`. Too many arguments for `args[]` is an error naming `probe`.
 */
export function encodeUsdtSpec(
  layout: UsdtSpecLayout,
  args: readonly UsdtArg[],
  cookie: bigint,
  probe: string,
): Uint8Array {
  if (args.length > layout.args.count)
    throw new InvalidArgumentError(
      `USDT probe ${probe} has ${args.length} arguments; usdt.bpf.h reads at most ${layout.args.count}`,
    );
  const bytes = new Uint8Array(layout.size);
  const out = new DataView(bytes.buffer);
  for (const [i, arg] of args.entries()) {
    const at = layout.args.offset + i * layout.args.stride;
    put(out, at, layout.arg.valOff, arg.value);
    put(out, at, layout.arg.argType, argTypes[arg.kind]);
    put(out, at, layout.arg.regOff, arg.registerOffset);
    put(out, at, layout.arg.argSigned, arg.signed ? 1 : 0);
    // The program shifts left then back (arithmetically when signed) to widen to 64 bits.
    put(out, at, layout.arg.argBitshift, 64 - arg.size * 8);
  }
  put(out, 0, layout.usdtCookie, cookie);
  put(out, 0, layout.argCnt, args.length);
  return bytes;
}
