import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IrMember } from '../ir.ts';
import { layoutAggregate } from './layout.ts';
import { type CAggregate, parseDeclarations } from './parser.ts';
import { Preprocessor } from './preprocessor.ts';

/** Structs whose LP64 layout the engine must get right: padding, unions, bitfields, attributes. */
const CASES = `
struct pad { __u8 a; __u64 b; __u16 c; };
struct nested { __u32 a; union { __u32 x; __aligned_u64 y; }; struct { __u8 p; __u32 q; } inner; __u8 tail; };
struct bits { __u32 a:3; __u32 b:30; __u8 c:4; __u8 :0; __u8 d:2; __u16 e:9; __u16 f:9; };
struct unnamed_bits { __u8 a; __u32 :24; __u8 b; };
struct aligned { __u8 a; } __attribute__((aligned(8)));
struct member_aligned { __u8 a; __u32 b __attribute__((aligned(16))); };
struct packed_inner { __u8 a; struct { __u8 x; __u32 y; } __attribute__((packed, aligned(2))) p; __u8 z; };
struct arrays { char name[5]; __u32 v[3]; __u64 w[0]; };
union u { __u8 a[3]; __u16 b; };
struct with_union { __u8 k; union u u; };
struct ptrs { __u8 a; struct pad *p; };
struct md { __u32 len; union { struct pad *sk; __u64 :64; } __attribute__((aligned(8))); __u32 after; };
`;
const NAMES = [
  'pad',
  'nested',
  'bits',
  'unnamed_bits',
  'aligned',
  'member_aligned',
  'packed_inner',
  'arrays',
  'with_union',
  'ptrs',
  'md',
];

function leaves(members: readonly IrMember[], prefix = ''): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  for (const m of members) {
    const path = m.name ? (prefix ? `${prefix}.${m.name}` : m.name) : prefix;
    if (m.members) out.push(...leaves(m.members, path));
    else if (m.bitSize === undefined) out.push([path, m.offset, m.size]);
  }
  return out;
}

/** What gcc says: sizeof, alignof and offsetof of every non-bitfield leaf. */
function gccLayouts(): Record<string, { size: number; align: number; offsets: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'layout-'));
  try {
    const parsed = parseDeclarations(new Preprocessor().run(CASES, 'cases.h').tokens);
    const lines: string[] = [];
    for (const n of NAMES) {
      const l = layoutAggregate(parsed.aggregates.get(`struct ${n}`) as CAggregate, 'header');
      const offs = leaves(l.members)
        .map(([p]) => `printf("\\"${p}\\":%zu,", offsetof(struct ${n}, ${p}));`)
        .join(' ');
      lines.push(
        `printf("\\"${n}\\":{\\"size\\":%zu,\\"align\\":%zu,\\"offsets\\":{", sizeof(struct ${n}), _Alignof(struct ${n})); ${offs} printf("\\"\\":0}},");`,
      );
    }
    const c = `#include <stdio.h>\n#include <stddef.h>\n#include <linux/types.h>\n${CASES}\nint main(void){printf("{");${lines.join('\n')}printf("\\"\\":0}");return 0;}\n`;
    writeFileSync(join(dir, 'l.c'), c);
    execFileSync('gcc', ['-o', join(dir, 'l'), join(dir, 'l.c')]);
    return JSON.parse(execFileSync(join(dir, 'l'), { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** gcc's byte image of struct bits with one bitfield at a time set to all ones, as hex. */
function gccBitImages(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'bits-'));
  try {
    const set = ['a', 'b', 'c', 'd', 'e', 'f']
      .map(
        (f) => `memset(&s, 0, sizeof s); s.${f} = ~0u; printf("\\"${f}\\":\\""); dump(&s); printf("\\",");`,
      )
      .join('\n');
    const c = `#include <stdio.h>\n#include <string.h>\n#include <linux/types.h>\n${CASES}
static void dump(const struct bits *s) { const unsigned char *p = (const void *)s; for (size_t i = 0; i < sizeof *s; i++) printf("%02x", p[i]); }
int main(void) { struct bits s; printf("{"); ${set} printf("\\"\\":0}"); return 0; }\n`;
    writeFileSync(join(dir, 'b.c'), c);
    execFileSync('gcc', ['-Wno-overflow', '-o', join(dir, 'b'), join(dir, 'b.c')]);
    return JSON.parse(execFileSync(join(dir, 'b'), { encoding: 'utf8' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('layoutAggregate (LP64)', () => {
  const parsed = parseDeclarations(new Preprocessor().run(CASES, 'cases.h').tokens);
  const gcc = gccLayouts();
  const gccBits = gccBitImages();

  it.each(NAMES)('struct %s matches gcc: size, alignment and every offset', (n) => {
    const l = layoutAggregate(parsed.aggregates.get(`struct ${n}`) as CAggregate, 'header');
    const expected = gcc[n]!;
    expect({ size: l.size, align: l.align }).toEqual({ size: expected.size, align: expected.align });
    for (const [path, offset] of leaves(l.members))
      expect([path, offset]).toEqual([path, expected.offsets[path]]);
  });

  it('places bitfields like gcc: no straddling, :0 aligns, unnamed ones pad (checked bit by bit)', () => {
    const l = layoutAggregate(parsed.aggregates.get('struct bits') as CAggregate, 'header');
    const fields = l.members.filter((m) => m.bitSize !== undefined);
    expect(fields.map((m) => [m.name, m.offset, m.bitOffset, m.bitSize])).toEqual([
      ['a', 0, 0, 3],
      ['b', 4, 0, 30],
      ['c', 8, 0, 4],
      ['d', 9, 0, 2],
      ['e', 10, 0, 9],
      ['f', 12, 0, 9],
    ]);
    // gcc's memory image with one field set to all ones must equal the bits the layout names.
    for (const f of fields) {
      const mine = new Uint8Array(l.size);
      for (let b = 0; b < f.bitSize!; b++) {
        const bit = f.offset * 8 + f.bitOffset! + b;
        mine[bit >> 3]! |= 1 << (bit & 7);
      }
      expect([f.name, Buffer.from(mine).toString('hex')]).toEqual([f.name, gccBits[f.name]]);
    }
  });

  it('reports an incomplete struct member with its file and line', () => {
    const p = parseDeclarations(new Preprocessor().run('struct a;\nstruct b { struct a x; };', 'i.h').tokens);
    expect(() => layoutAggregate(p.aggregates.get('struct b') as CAggregate, 'header')).toThrow(
      'i.h:1: struct a is incomplete (declared but never defined)',
    );
  });
});
