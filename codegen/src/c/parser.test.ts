import { describe, expect, it } from 'vitest';
import { type CAggregate, parseDeclarations } from './parser.ts';
import { Preprocessor } from './preprocessor.ts';

function parse(src: string) {
  return parseDeclarations(new Preprocessor().run(src, 'p.h').tokens);
}

describe('parseDeclarations', () => {
  it('parses enums with implicit values, expressions and references to earlier enumerators', () => {
    const r = parse(`
      #define SHIFT 3
      enum e { A, B, C = 10, D, E = (1U << SHIFT), F = E | A, G = -1 };
      enum { X = C + 1 };`);
    expect(r.enums[0]!.tag).toBe('e');
    expect(r.enums[0]!.members.map((m) => [m.name, m.value])).toEqual([
      ['A', 0n],
      ['B', 1n],
      ['C', 10n],
      ['D', 11n],
      ['E', 8n],
      ['F', 8n],
      ['G', -1n],
    ]);
    expect(r.enums[1]).toMatchObject({ tag: undefined, members: [{ name: 'X', value: 11n }] });
    expect(r.constants.get('D')?.value).toBe(11n);
  });

  it('parses nested anonymous structs and unions, named members, arrays, bitfields and attributes', () => {
    const r = parse(`
      struct s {
        __u32 a;
        __aligned_u64 p;
        union { __u32 x; __u64 y; };
        struct { __u8 b:4, c:4; } named;
        char name[16];
        __u32 grid[2][3];
        struct other *ptr;
        __u32 :32;
      } __attribute__((aligned(8)));`);
    const s = r.aggregates.get('struct s') as CAggregate;
    expect(s.align).toBe(8);
    expect(s.members!.map((m) => [m.name, m.type.kind, m.bitWidth])).toEqual([
      ['a', 'typedef', undefined],
      ['p', 'typedef', undefined],
      [undefined, 'union', undefined],
      ['named', 'struct', undefined],
      ['name', 'array', undefined],
      ['grid', 'array', undefined],
      ['ptr', 'ptr', undefined],
      [undefined, 'typedef', 32],
    ]);
    expect(r.aggregates.get('struct other')?.members).toBeUndefined();
  });

  it('accepts typedefs and uses them afterwards', () => {
    const r = parse('typedef unsigned int myint; struct t { myint v; };');
    expect((r.aggregates.get('struct t') as CAggregate).members![0]!.type).toMatchObject({
      kind: 'typedef',
      name: 'myint',
    });
  });

  it('expands macros that build members (__bpf_md_ptr)', () => {
    const r = parse(`
      #define __bpf_md_ptr(type, name) union { type name; __u64 :64; } __attribute__((aligned(8)))
      struct ctx { __u32 len; __bpf_md_ptr(struct bpf_sock *, sk); };`);
    const m = (r.aggregates.get('struct ctx') as CAggregate).members![1]!;
    expect(m.name).toBeUndefined();
    expect(m.type).toMatchObject({ kind: 'union', align: 8 });
  });

  it.each([
    ['struct s { __u32 a }', "p.h:1: expected ';' after struct member, found '}'"],
    ['struct s {\n  __u32 a;\n  mystery_t b;\n};', "p.h:3: unknown type name 'mystery_t'"],
    ['enum e { A = NOPE };', "p.h:1: unknown identifier 'NOPE' in constant expression"],
    ['enum e { A, 5 };', 'p.h:1: enumerator name expected in enum e'],
    ['struct s { __u32 a; };\nstruct s { __u32 b; };', 'p.h:2: redefinition of struct s'],
    ['struct s {\n __u32 a;\n', 'p.h:1: unterminated struct s'],
    ['enum a { X = 1 };\nenum b { X = 2 };', 'p.h:2: enumerator X redefined with a different value'],
  ])('rejects %j', (src, message) => {
    expect(() => parse(src)).toThrow(message);
  });
});
