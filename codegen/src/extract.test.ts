import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf, BtfBuilder } from '@ebpf/btf';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExtractError, extract, type HeaderInput, helperDocs, mergeAggregate } from './extract.ts';
import { main } from './main.ts';

/** A reduced linux/bpf.h with the constructs the real one uses. */
const BPF_H = `/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __LINUX_BPF_H__
#define __LINUX_BPF_H__
#include <linux/types.h>
#include <linux/bpf_common.h>
#define BPF_JMP32	0x06
#define BPF_ALU64	0x07
#define BPF_DW		0x18
#define BPF_ATOMIC	0xc0
#define BPF_MOV		0xb0
#define BPF_ARSH	0xc0
#define BPF_END		0xd0
#define BPF_TO_LE	0x00
#define BPF_TO_BE	0x08
#define BPF_JNE		0x50
#define BPF_JLT		0xa0
#define BPF_JLE		0xb0
#define BPF_JSGT	0x60
#define BPF_JSGE	0x70
#define BPF_JSLT	0xc0
#define BPF_JSLE	0xd0
#define BPF_CALL	0x80
#define BPF_EXIT	0x90
#define BPF_FETCH	0x01
#define BPF_XCHG	(0xe0 | BPF_FETCH)
#define BPF_CMPXCHG	(0xf0 | BPF_FETCH)
#define BPF_OBJ_NAME_LEN 16U
enum bpf_cmd {
	BPF_MAP_CREATE,
	BPF_MAP_LOOKUP_ELEM,
	BPF_PROG_RUN = BPF_MAP_LOOKUP_ELEM,
	__MAX_BPF_CMD,
};
enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC,
	BPF_MAP_TYPE_HASH,
};
/* flags for BPF_MAP_CREATE command */
enum {
	BPF_F_NO_PREALLOC	= (1U << 0),
	BPF_F_NUMA_NODE		= (1U << 2),
};
union bpf_attr {
	struct { /* BPF_MAP_CREATE */
		__u32	map_type;
		__u32	key_size;
		char	map_name[BPF_OBJ_NAME_LEN];
		__u64	map_extra;
	};
	struct { /* BPF_MAP_*_ELEM */
		__u32		map_fd;
		__aligned_u64	key;
		union {
			__aligned_u64 value;
			__aligned_u64 next_key;
		};
		__u64		flags;
	};
} __attribute__((aligned(8)));
/*
 * void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)
 * 	Description
 * 		Look up.
 *
 * u64 bpf_ktime_get_ns(void)
 * 	Description
 * 		Time.
 */
#define __BPF_FUNC_MAPPER(FN)		\\
	FN(unspec),			\\
	FN(map_lookup_elem),		\\
	FN(ktime_get_ns),		\\
	FN(undocumented),
#define __BPF_ENUM_FN(x) BPF_FUNC_ ## x
enum bpf_func_id {
	__BPF_FUNC_MAPPER(__BPF_ENUM_FN)
	__BPF_FUNC_MAX_ID,
};
#undef __BPF_ENUM_FN
#endif /* __LINUX_BPF_H__ */
`;

const COMMON_H = `#ifndef __LINUX_BPF_COMMON_H__
#define __LINUX_BPF_COMMON_H__
#define BPF_CLASS(code) ((code) & 0x07)
#define		BPF_LD		0x00
#define		BPF_LDX		0x01
#define		BPF_ST		0x02
#define		BPF_STX		0x03
#define		BPF_ALU		0x04
#define		BPF_JMP		0x05
#define		BPF_W		0x00
#define		BPF_H		0x08
#define		BPF_B		0x10
#define		BPF_IMM		0x00
#define		BPF_ABS		0x20
#define		BPF_IND		0x40
#define		BPF_MEM		0x60
#define		BPF_ADD		0x00
#define		BPF_SUB		0x10
#define		BPF_MUL		0x20
#define		BPF_DIV		0x30
#define		BPF_OR		0x40
#define		BPF_AND		0x50
#define		BPF_LSH		0x60
#define		BPF_RSH		0x70
#define		BPF_NEG		0x80
#define		BPF_MOD		0x90
#define		BPF_XOR		0xa0
#define		BPF_JA		0x00
#define		BPF_JEQ		0x10
#define		BPF_JGT		0x20
#define		BPF_JGE		0x30
#define		BPF_JSET		0x40
#define		BPF_K		0x00
#define		BPF_X		0x08
#ifndef BPF_MAXINSNS
#define BPF_MAXINSNS 4096
#endif
#endif
`;

const IF_LINK_H = `#define XDP_FLAGS_UPDATE_IF_NOEXIST	(1U << 0)
#define XDP_FLAGS_SKB_MODE		(1U << 1)
#define XDP_FLAGS_DRV_MODE		(1U << 2)
#define XDP_FLAGS_HW_MODE		(1U << 3)
#define XDP_FLAGS_REPLACE		(1U << 4)
#define XDP_FLAGS_MODES			(XDP_FLAGS_SKB_MODE | \\
					 XDP_FLAGS_DRV_MODE | \\
					 XDP_FLAGS_HW_MODE)
#define IFLA_SOMETHING_ELSE 7
`;

const input = (bpf = BPF_H): HeaderInput => ({
  bpf: { name: 'linux/bpf.h', text: bpf },
  bpfCommon: { name: 'linux/bpf_common.h', text: COMMON_H },
  ifLink: { name: 'linux/if_link.h', text: IF_LINK_H },
});

/** A synthetic kernel: enum bpf_map_type with a newer member, an anonymous flags enum, a longer bpf_func_id. */
function kernelBtf(opts: { hashValue?: number; keyOffset?: number } = {}) {
  const b = new BtfBuilder();
  const values = (...pairs: [string, number][]) => pairs.map(([name, value]) => ({ name, value }));
  const member = (name: string, type: number, byte: number) => ({
    name,
    type,
    bitOffset: byte * 8,
    bitfieldSize: 0,
  });
  const u32 = b.add({ kind: 'int', name: 'unsigned int', size: 4, encoding: 0, bitOffset: 0, bits: 32 });
  b.add({
    kind: 'enum',
    name: 'bpf_map_type',
    size: 4,
    signed: false,
    values: values(
      ['BPF_MAP_TYPE_UNSPEC', 0],
      ['BPF_MAP_TYPE_HASH', opts.hashValue ?? 1],
      ['BPF_MAP_TYPE_ARENA', 33],
    ),
  });
  b.add({
    kind: 'enum',
    name: '',
    size: 4,
    signed: false,
    values: values(['BPF_F_NO_PREALLOC', 1], ['BPF_F_NUMA_NODE', 4], ['BPF_F_TOKEN_FD', 1 << 16]),
  });
  b.add({
    kind: 'enum',
    name: 'bpf_func_id',
    size: 4,
    signed: false,
    values: values(
      ['BPF_FUNC_unspec', 0],
      ['BPF_FUNC_map_lookup_elem', 1],
      ['BPF_FUNC_ktime_get_ns', 2],
      ['BPF_FUNC_undocumented', 3],
      ['BPF_FUNC_cgrp_storage_get', 4],
    ),
  });
  const u64 = b.add({
    kind: 'int',
    name: 'long long unsigned int',
    size: 8,
    encoding: 0,
    bitOffset: 0,
    bits: 64,
  });
  const td32 = b.add({ kind: 'typedef', name: '__u32', target: u32 });
  const td64 = b.add({ kind: 'typedef', name: '__aligned_u64', target: u64 });
  const inner = b.add({
    kind: 'union',
    name: '',
    size: 8,
    members: [member('value', td64, 0), member('next_key', td64, 0)],
  });
  const elem = b.add({
    kind: 'struct',
    name: '',
    size: 32,
    members: [
      member('map_fd', td32, 0),
      member('key', td64, opts.keyOffset ?? 8),
      member('', inner, 16),
      member('flags', u64, 24),
    ],
  });
  b.add({ kind: 'union', name: 'bpf_attr', size: 32, members: [member('', elem, 0)] });
  return Btf.parse(b.marshal());
}

describe('extract from a header', () => {
  const ir = extract(input(), undefined);

  it('records #defines (expressions, both headers, only XDP_FLAGS_* of if_link.h) and enumerators', () => {
    const c = Object.fromEntries(ir.constants.map((x) => [x.name, x.value]));
    expect(c).toMatchObject({
      BPF_XCHG: 0xe1,
      BPF_LDX: 1,
      BPF_MAXINSNS: 4096,
      BPF_OBJ_NAME_LEN: 16,
      XDP_FLAGS_MODES: 14,
    });
    expect(c).toMatchObject({
      BPF_MAP_CREATE: 0,
      BPF_PROG_RUN: 1,
      BPF_F_NUMA_NODE: 4,
      BPF_FUNC_ktime_get_ns: 2,
    });
    expect(c).not.toHaveProperty('IFLA_SOMETHING_ELSE');
    expect(c).not.toHaveProperty('__MAX_BPF_CMD');
    expect(c.BPF_MEMSX).toBe(0x80); // from the facts table
    expect(ir.constants.find((x) => x.name === 'BPF_MEMSX')!.from).toBe('facts');
    expect(ir.constants.map((x) => x.name)).toEqual(ir.constants.map((x) => x.name).sort());
  });

  it('keeps enums with their members in declaration order, sentinels dropped', () => {
    expect(ir.enums.find((e) => e.name === 'bpf_cmd')).toEqual({
      name: 'bpf_cmd',
      anonymous: false,
      members: ['BPF_MAP_CREATE', 'BPF_MAP_LOOKUP_ELEM', 'BPF_PROG_RUN'],
      from: 'header',
    });
    expect(ir.enums.find((e) => e.anonymous)?.name).toBe('(anonymous BPF_F_NO_PREALLOC)');
  });

  it('lays out union bpf_attr by the LP64 ABI', () => {
    const attr = ir.aggregates.find((a) => a.name === 'union bpf_attr')!;
    expect(attr.size).toBe(32);
    const elem = attr.members[1]!;
    expect(elem.members!.map((m) => [m.name, m.offset, m.size])).toEqual([
      ['map_fd', 0, 4],
      ['key', 8, 8],
      ['', 16, 8],
      ['flags', 24, 8],
    ]);
  });

  it('takes helper ids from the mapper macro and signatures from the doc comment', () => {
    expect(ir.helpers).toEqual([
      {
        id: 1,
        name: 'bpf_map_lookup_elem',
        signature: 'void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)',
      },
      { id: 2, name: 'bpf_ktime_get_ns', signature: 'u64 bpf_ktime_get_ns(void)' },
      { id: 3, name: 'bpf_undocumented', signature: null },
    ]);
  });

  it('reads the newer helper mapper, FN(name, id, ctx...), with explicit ids', () => {
    const start = BPF_H.indexOf('#define __BPF_FUNC_MAPPER(FN)');
    const end = BPF_H.indexOf('#undef __BPF_ENUM_FN');
    const newer = `${BPF_H.slice(0, start)}#define ___BPF_FUNC_MAPPER(FN, ctx...)\t\t\\
\tFN(unspec, 0, ##ctx)\t\t\t\\
\tFN(map_lookup_elem, 1, ##ctx)\t\t\\
\tFN(ktime_get_ns, 5, ##ctx)\t\t\\
\t/* */
#define __BPF_FUNC_MAPPER_APPLY(name, value, FN) FN(name),
#define __BPF_FUNC_MAPPER(FN) ___BPF_FUNC_MAPPER(__BPF_FUNC_MAPPER_APPLY, FN)
#define __BPF_ENUM_FN(x, y) BPF_FUNC_ ## x = y,
enum bpf_func_id {
\t___BPF_FUNC_MAPPER(__BPF_ENUM_FN)
\t__BPF_FUNC_MAX_ID,
};
${BPF_H.slice(end)}`;
    const helpers = extract(input(newer), undefined).helpers;
    expect(helpers.map((h) => [h.id, h.name])).toEqual([
      [1, 'bpf_map_lookup_elem'],
      [5, 'bpf_ktime_get_ns'],
    ]);
  });

  it('reports a malformed header with its file and line', () => {
    const broken = BPF_H.replace('__u32\t\tmap_fd;', '__u32\t\tmap_fd');
    expect(() => extract(input(broken), undefined)).toThrow(
      /^linux\/bpf\.h:\d+: expected ';' after struct member/,
    );
    const line = BPF_H.split('\n').findIndex((l) => l.includes('map_fd;')) + 2;
    expect(() => extract(input(broken), undefined)).toThrow(`linux/bpf.h:${line}:`);
  });
});

describe('extract from linux/btf.h', () => {
  const btfH = [
    '#define BTF_MAGIC 0xeB9F',
    '#define BTF_INFO_KIND(info) (((info) >> 24) & 0x1f)',
    '#define BTF_INT_SIGNED (1 << 0)',
    'struct btf_type { __u32 name_off; __u32 info; union { __u32 size; __u32 type; }; };',
    'enum { BTF_KIND_UNKN = 0, BTF_KIND_INT = 1, NR_BTF_KINDS, BTF_KIND_MAX = NR_BTF_KINDS - 1 };',
    'struct btf_param { __u32 name_off; __u32 type; };',
  ].join('\n');
  const ir = extract({ ...input(), btf: { name: 'linux/btf.h', text: btfH } }, undefined);

  it('records its integer #defines and enumerators, sentinels (NR_*, *_MAX) dropped', () => {
    const c = Object.fromEntries(ir.constants.map((x) => [x.name, x.value]));
    expect(c).toMatchObject({ BTF_MAGIC: 0xeb9f, BTF_INT_SIGNED: 1, BTF_KIND_INT: 1 });
    expect(c).not.toHaveProperty('NR_BTF_KINDS');
    expect(c).not.toHaveProperty('BTF_KIND_MAX');
  });

  it('lays out its records, the size/type union of btf_type at offset 8', () => {
    const t = ir.aggregates.find((a) => a.name === 'struct btf_type')!;
    expect(t.size).toBe(12);
    expect(ir.aggregates.find((a) => a.name === 'struct btf_param')?.size).toBe(8);
  });
});

describe('extract with kernel BTF', () => {
  it('adds what the kernel has beyond the header: enumerators, anonymous-enum flags, helpers', () => {
    const ir = extract(input(), kernelBtf());
    expect(ir.enums.find((e) => e.name === 'bpf_map_type')).toEqual({
      name: 'bpf_map_type',
      anonymous: false,
      members: ['BPF_MAP_TYPE_UNSPEC', 'BPF_MAP_TYPE_HASH', 'BPF_MAP_TYPE_ARENA'],
      from: 'btf',
    });
    expect(ir.constants.find((c) => c.name === 'BPF_F_TOKEN_FD')).toEqual({
      name: 'BPF_F_TOKEN_FD',
      value: 65536,
      from: 'btf',
    });
    expect(ir.constants.find((c) => c.name === 'BPF_MAP_TYPE_HASH')!.from).toBe('header');
    expect(ir.helpers.at(-1)).toEqual({
      id: 4,
      name: 'bpf_cgrp_storage_get',
      signature:
        'void *bpf_cgrp_storage_get(struct bpf_map *map, struct cgroup *cgroup, void *value, u64 flags)',
    });
  });

  it('fails when header and kernel disagree on a value', () => {
    expect(() => extract(input(), kernelBtf({ hashValue: 7 }))).toThrow(
      new ExtractError('BPF_MAP_TYPE_HASH is 1 in the header but 7 in the btf'),
    );
  });

  it('fails when header and kernel disagree on a layout', () => {
    expect(() => extract(input(), kernelBtf({ keyOffset: 4 }))).toThrow(
      'union bpf_attr: field key is at 8+8 in the header but 4+8 in the BTF',
    );
  });

  it('merges aggregates by keeping the newer definition', () => {
    const small = {
      name: 'struct x',
      size: 4,
      align: 4,
      from: 'header' as const,
      members: [
        { name: 'a', ctype: '__u32', offset: 0, size: 4, kind: 'scalar' as const, scalar: 'u32' as const },
      ],
    };
    const big = {
      ...small,
      size: 8,
      from: 'btf' as const,
      members: [...small.members, { ...small.members[0]!, name: 'b', offset: 4 }],
    };
    expect(mergeAggregate(small, big)).toBe(big);
    expect(mergeAggregate(big, small)).toBe(big);
    expect(mergeAggregate(undefined, small)).toBe(small);
  });
});

describe('helperDocs', () => {
  it('reads a signature only when a Description line follows it', () => {
    const docs = helperDocs([
      {
        file: 'f',
        line: 1,
        text: '/*\n * long bpf_x(void *a,  int b)\n * \tDescription\n * \t\tDoes.\n * long bpf_y(void)\n * \tReturn\n */',
      },
    ]);
    expect([...docs]).toEqual([['bpf_x', 'long bpf_x(void *a, int b)']]);
  });
});

describe('main (pnpm codegen)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'codegen-'));
    mkdirSync(join(dir, 'include/linux'), { recursive: true });
    writeFileSync(join(dir, 'include/linux/bpf_common.h'), COMMON_H);
    writeFileSync(join(dir, 'include/linux/if_link.h'), IF_LINK_H);
    writeFileSync(join(dir, 'include/linux/version.h'), '#define LINUX_VERSION_CODE 394496\n');
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    vi.restoreAllMocks();
  });
  /** Runs `pnpm codegen` on `header` (default: the temp dir's bpf.h) into the temp dir. */
  const codegen = (header = join(dir, 'include/linux/bpf.h'), btf = 'none'): number =>
    main([
      ...['--header', header, '--btf', btf, '--ir', join(dir, 'ir'), '--out', join(dir, 'out')],
      ...['--native-out', 'none'],
    ]);
  const run = (bpf: string): number => {
    writeFileSync(join(dir, 'include/linux/bpf.h'), bpf);
    return codegen();
  };

  it('writes the IR and the generated files, and rewrites nothing on a second run', () => {
    run(BPF_H);
    expect(vi.mocked(console.error).mock.calls).toEqual([]);
    expect(readdirSync(join(dir, 'ir')).sort()).toEqual([
      'aggregates.json',
      'constants.json',
      'enums.json',
      'helpers.json',
      'source.json',
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'ir/source.json'), 'utf8'))).toEqual({
      header: '6.5',
      btf: null,
    });
    expect(readdirSync(join(dir, 'out')).sort()).toEqual([
      'enums.generated.ts',
      'helpers.generated.ts',
      'layouts.generated.ts',
    ]);
    const enums = readFileSync(join(dir, 'out/enums.generated.ts'), 'utf8');
    expect(enums.split('\n')[0]).toBe('// Code generated by codegen (pnpm codegen); DO NOT EDIT.');
    expect(enums).toContain('MapCreate: 0,');
    expect(run(BPF_H)).toBe(0);
    expect(console.log).toHaveBeenLastCalledWith('codegen: up to date');
    expect(readdirSync(dir).filter((n) => n.startsWith('.codegen-'))).toEqual([]);
  });

  it('removes generated files the generator no longer makes, and only those', () => {
    mkdirSync(join(dir, 'out'), { recursive: true });
    writeFileSync(join(dir, 'out/old.generated.ts'), '// stale\n');
    writeFileSync(join(dir, 'out/hand-written.ts'), '// keep\n');
    expect(run(BPF_H)).toBe(0);
    expect(existsSync(join(dir, 'out/old.generated.ts'))).toBe(false);
    expect(existsSync(join(dir, 'out/hand-written.ts'))).toBe(true);
  });

  it('on a malformed header reports file and line and writes nothing', () => {
    expect(run(BPF_H.replace('BPF_MAP_TYPE_HASH,', 'BPF_MAP_TYPE_HASH = (1 <<,'))).toBe(1);
    expect(console.error).toHaveBeenCalledWith(expect.stringMatching(/^codegen: linux\/bpf\.h:\d+: /));
    expect(existsSync(join(dir, 'ir'))).toBe(false);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('rejects an unknown option with the usage line, exit code 2', () => {
    expect(main(['--hedaer', 'x'])).toBe(2);
    expect(console.error).toHaveBeenCalledWith(
      expect.stringMatching(/^codegen: Unknown option '--hedaer'.*\nusage: pnpm codegen /s),
    );
  });

  it('takes relative paths from where pnpm was run (INIT_CWD), not from codegen/', () => {
    writeFileSync(join(dir, 'include/linux/bpf.h'), BPF_H);
    vi.stubEnv('INIT_CWD', dir);
    try {
      const paths = ['--header', 'include/linux/bpf.h', '--ir', 'ir', '--out', 'out'];
      expect(main([...paths, '--btf', 'none', '--native-out', 'none'])).toBe(0);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(existsSync(join(dir, 'out/enums.generated.ts'))).toBe(true);
    expect(existsSync(join(dir, 'ir/enums.json'))).toBe(true);
  });

  it('names a missing header or BTF file and what to pass instead', () => {
    expect(codegen(join(dir, 'nowhere/bpf.h'))).toBe(1);
    expect(console.error).toHaveBeenLastCalledWith(expect.stringContaining('header not found'));
    writeFileSync(join(dir, 'include/linux/bpf.h'), BPF_H);
    const notBtf = join(dir, 'not-btf');
    writeFileSync(notBtf, 'hello');
    expect(codegen(undefined, notBtf)).toBe(1);
    expect(console.error).toHaveBeenLastCalledWith(expect.stringMatching(/^codegen: .*not-btf: /));
    expect(existsSync(join(dir, 'ir'))).toBe(false);
  });

  it('on a malformed header leaves earlier output untouched', () => {
    expect(run(BPF_H)).toBe(0);
    const before = readFileSync(join(dir, 'out/enums.generated.ts'), 'utf8');
    expect(run(`${BPF_H}\nstruct broken {`)).toBe(1);
    expect(readFileSync(join(dir, 'out/enums.generated.ts'), 'utf8')).toBe(before);
  });
});
