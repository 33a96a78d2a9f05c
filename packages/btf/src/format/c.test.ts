import { describe, expect, it } from 'vitest';
import { Btf, BtfError } from '../index.ts';
import type { CDumpOptions } from './c.ts';
import { BtfFixture } from './fixture.ts';
import { toTypeScript } from './typescript.ts';

/** The dump without bpftool's fixed first 7 and last 6 lines. */
function body(b: BtfFixture, options?: CDumpOptions): string {
  const lines = b.btf().toC(options).split('\n');
  return lines.slice(7, -6).join('\n');
}

describe('toC', () => {
  it('writes the header and footer bpftool writes around the types', () => {
    const text = new BtfFixture().btf().toC();
    expect(text).toBe(
      [
        '#ifndef __VMLINUX_H__',
        '#define __VMLINUX_H__',
        '',
        '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX',
        '#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)',
        '#endif',
        '',
        '#ifndef BPF_NO_PRESERVE_ACCESS_INDEX',
        '#pragma clang attribute pop',
        '#endif',
        '',
        '#endif /* __VMLINUX_H__ */',
        '',
      ].join('\n'),
    );
  });

  it('writes typedefs after what they name, and base types not at all', () => {
    const b = new BtfFixture();
    const int = b.int('int', 4);
    const u8 = b.int('unsigned char', 1, false);
    b.typedef('__u8', u8);
    b.typedef('s32', b.typedef('__s32', int));
    expect(body(b)).toBe(
      ['typedef unsigned char __u8;', '', 'typedef int __s32;', '', 'typedef __s32 s32;', ''].join('\n'),
    );
  });

  it('lays out bitfields and gaps with unnamed padding members, and marks packed structs', () => {
    const b = new BtfFixture();
    const char = b.int('char', 1);
    const int = b.int('int', 4);
    const long = b.int('long', 8);
    b.struct('bits', 16, [
      ['a', int, 0, 3],
      ['b', int, 32, 5],
      ['c', char, 40],
      ['d', char, 64],
    ]);
    b.struct('gap', 24, [
      ['a', char, 0],
      ['b', long, 128],
    ]);
    b.struct('tight', 5, [
      ['a', int, 0],
      ['b', char, 32],
    ]);
    expect(body(b)).toBe(
      [
        'struct bits {',
        '\tint a: 3;',
        '\tint: 29;',
        '\tint b: 5;',
        '\tchar c;',
        '\tlong: 0;',
        '\tchar d;',
        '\tlong: 0;',
        '};',
        '',
        'struct gap {',
        '\tchar a;',
        '\tlong: 64;',
        '\tlong b;',
        '};',
        '',
        'struct tight {',
        '\tint a;',
        '\tchar b;',
        '} __attribute__((packed));',
        '',
      ].join('\n'),
    );
  });

  it('declares a struct ahead when it is only reached through a pointer from a struct it embeds', () => {
    const b = new BtfFixture();
    const a = b.struct('a', 8, [['b', 3, 0]]);
    const pa = b.ptr(a);
    b.struct('b', 8, [['a', pa, 0]]);
    expect(body(b)).toBe(
      [
        'struct a;',
        '',
        'struct b {',
        '\tstruct a *a;',
        '};',
        '',
        'struct a {',
        '\tstruct b b;',
        '};',
        '',
      ].join('\n'),
    );
  });

  it('writes anonymous structs, unions and enums inline, and an unreferenced anonymous enum at the top', () => {
    const b = new BtfFixture();
    const int = b.int('int', 4);
    const inner = b.struct('', 4, [['x', int, 0]]);
    const u = b.union('', 4, [
      ['i', int, 0],
      ['s', inner, 0],
    ]);
    const e = b.enum('', 4, [['E_A', 0]]);
    b.struct('outer', 8, [
      ['', u, 0],
      ['kind', e, 32],
    ]);
    b.enum(
      '',
      4,
      [
        ['CONST_ONE', 1],
        ['CONST_NEG', -1],
      ],
      true,
    );
    expect(body(b)).toBe(
      [
        'struct outer {',
        '\tunion {',
        '\t\tint i;',
        '\t\tstruct {',
        '\t\t\tint x;',
        '\t\t} s;',
        '\t};',
        '\tenum {',
        '\t\tE_A = 0,',
        '\t} kind;',
        '};',
        '',
        'enum {',
        '\tCONST_ONE = 1,',
        '\tCONST_NEG = -1,',
        '};',
        '',
      ].join('\n'),
    );
  });

  it('renames the second type and enumerator of a name with ___2', () => {
    const b = new BtfFixture();
    const int = b.int('int', 4);
    b.struct('dup', 4, [['a', int, 0]]);
    b.struct('dup', 4, [['b', int, 0]]);
    b.enum('e1', 4, [['SAME', 1]]);
    b.enum('e2', 4, [['SAME', 2]]);
    b.enum('fwd_enum', 4, []);
    b.enum('fwd_enum', 4, []);
    expect(body(b)).toBe(
      [
        'struct dup {',
        '\tint a;',
        '};',
        '',
        'struct dup___2 {',
        '\tint b;',
        '};',
        '',
        'enum e1 {',
        '\tSAME = 1,',
        '};',
        '',
        'enum e2 {',
        '\tSAME___2 = 2,',
        '};',
        '',
        'enum fwd_enum;',
        '',
        'enum fwd_enum;',
        '',
      ].join('\n'),
    );
  });

  it('spells pointers, qualifiers, arrays and function prototypes in C declarator syntax', () => {
    const b = new BtfFixture();
    const char = b.int('char', 1);
    const int = b.int('int', 4);
    const cchar = b.const(char);
    const fn = b.proto(int, [
      ['s', b.const(b.ptr(char))],
      ['n', b.ptr(b.volatile(b.const(int)))],
    ]);
    const noArgs = b.proto(int, []);
    const varargs = b.proto(0, [
      ['fmt', b.ptr(cchar)],
      ['', 0],
    ]);
    const rows = b.array(b.array(int, 3), 2);
    b.struct('decls', 96, [
      ['handlers', b.array(b.ptr(fn), 4), 0],
      ['init', b.ptr(noArgs), 256],
      ['log', b.ptr(varargs), 320],
      ['matrix', rows, 384],
      ['name', b.ptr(cchar), 576],
      ['ret', b.ptr(b.proto(b.ptr(b.array(char, 8)), [['', 0]])), 640],
      ['pp', b.ptr(b.ptr(char)), 704],
    ]);
    expect(body(b)).toBe(
      [
        'struct decls {',
        '\tint (*handlers[4])(char * const s, const volatile int *n);',
        '\tint (*init)(void);',
        '\tvoid (*log)(const char *fmt, ...);',
        '\tint matrix[2][3];',
        '\tconst char *name;',
        '\tchar (* (*ret)(void))[8];',
        '\tchar **pp;',
        '};',
        '',
      ].join('\n'),
    );
  });

  it('writes enum64 values with LL/ULL, forward declarations, floats and type tags', () => {
    const b = new BtfFixture();
    const fwdU = b.fwd('later', true);
    const float = b.float('double', 8);
    const big = b.enum64('big', [['HUGE', 1n << 40n]]);
    const neg = b.enum64('neg', [['MINUS', -2n]], true);
    const user = b.ptr(b.typeTag('user', b.int('char', 1)));
    b.struct('tagged', 40, [
      ['u', b.ptr(fwdU), 0],
      ['d', float, 64],
      ['b', big, 128],
      ['n', neg, 192],
      ['p', user, 256],
    ]);
    expect(body(b)).toBe(
      [
        'union later;',
        '',
        'enum big {',
        '\tHUGE = 1099511627776ULL,',
        '};',
        '',
        'enum neg {',
        '\tMINUS = -2LL,',
        '};',
        '',
        'struct tagged {',
        '\tunion later *u;',
        '\tdouble d;',
        '\tenum big b;',
        '\tenum neg n;',
        '\tchar __attribute__((btf_type_tag("user"))) *p;',
        '};',
        '',
      ].join('\n'),
    );
  });

  it("skips __builtin_va_list, the compiler's own type", () => {
    const b = new BtfFixture();
    const va = b.typedef('__builtin_va_list', b.ptr(b.int('char', 1)));
    b.typedef('va_list', va);
    expect(body(b)).toBe(['typedef __builtin_va_list va_list;', ''].join('\n'));
  });

  it('writes a partial dump: the types asked for and what they need, nothing else', () => {
    const b = new BtfFixture();
    const int = b.int('int', 4);
    const pid = b.typedef('pid_t', int);
    b.struct('unrelated', 4, [['x', int, 0]]);
    const node = b.struct('node', 16, [
      ['next', 5, 0],
      ['pid', pid, 64],
    ]);
    b.ptr(node);
    b.func('ignored', b.proto(int, []));
    const btf = b.btf();
    expect(body(b, { types: [node] })).toBe(
      ['typedef int pid_t;', '', 'struct node {', '\tstruct node *next;', '\tpid_t pid;', '};', ''].join(
        '\n',
      ),
    );
    expect(btf.toC({ types: [btf.typeById(node)] })).toBe(btf.toC({ types: [node] }));
  });

  it('writes split BTF (a module on vmlinux) with the base types it uses, as bpftool does', () => {
    const base = new BtfFixture();
    const int = base.int('int', 4);
    const head = base.struct('list_head', 16, [
      ['next', 3, 0],
      ['prev', 3, 64],
    ]);
    base.ptr(head);
    const mod = new BtfFixture(base);
    mod.struct('mod_state', 24, [
      ['count', int, 0],
      ['list', head, 64],
    ]);
    expect(body(mod)).toBe(
      [
        'struct list_head {',
        '\tstruct list_head *next;',
        '\tstruct list_head *prev;',
        '};',
        '',
        'struct mod_state {',
        '\tint count;',
        '\tstruct list_head list;',
        '};',
        '',
      ].join('\n'),
    );
    expect(body(mod, { types: [4] })).toBe(body(mod));
  });

  it('refuses types C cannot define with a BtfError instead of recursing forever', () => {
    const loop = new BtfFixture();
    loop.typedef('a', 2);
    loop.typedef('b', 1);
    expect(() => loop.btf().toC()).toThrow(BtfError);
    const self = new BtfFixture();
    self.struct('self', 4, [['me', 1, 0]]);
    expect(() => self.btf().toC()).toThrow(/contains itself/);
    const anon = new BtfFixture();
    anon.struct('', 8, [['p', 2, 0]]);
    anon.ptr(1);
    expect(() => anon.btf().toC()).toThrow(BtfError);
    const huge = new BtfFixture();
    huge.struct('huge', 0xffffffff, [['c', 2, 0]]);
    huge.int('char', 1);
    expect(() => huge.btf().toC()).toThrow(/no compiler lays out that gap/);
    // 40 levels of an anonymous struct holding the one below twice: 2^40 members written out.
    const laughs = new BtfFixture();
    let level = laughs.int('int', 4);
    for (let i = 0; i < 40; i++)
      level = laughs.struct('', 8, [
        ['a', level, 0],
        ['b', level, 0],
      ]);
    laughs.struct('top', 8, [['x', level, 0]]);
    expect(() => laughs.btf().toC()).toThrow(/longer than/);
    expect(() => toTypeScript(laughs.btf(), [level + 1])).toThrow(/over 100000 fields/);
  });

  it('throws only BtfError on corrupted BTF, and never hangs', () => {
    const good = new BtfFixture();
    const char = good.int('char', 1);
    const int = good.int('int', 4);
    const inner = good.union('', 4, [['i', int, 0]]);
    const later = good.ptr(good.fwd('later'));
    const chars = good.array(char, 8);
    const s = good.struct('s', 32, [
      ['c', char, 0],
      ['b', int, 32, 3],
      ['', inner, 64],
      ['p', later, 128],
      ['a', chars, 192],
    ]);
    good.ptr(good.typedef('s_t', s));
    good.enum('e', 4, [['E', 1]]);
    const raw = good.raw();
    let seed = 7;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let printed = 0;
    for (let i = 0; i < 2_000; i++) {
      const bytes = raw.slice();
      for (let k = rand(4); k >= 0; k--) bytes[24 + rand(bytes.length - 24)] = rand(2) ? rand(256) : 0xff;
      try {
        const btf = Btf.parse(bytes);
        btf.toC();
        const named = [...btf].filter(
          (t) => t.name !== '' && ['struct', 'union', 'enum', 'typedef'].includes(t.kind),
        );
        toTypeScript(btf, named);
        printed++;
      } catch (e) {
        if (!(e instanceof BtfError)) throw e;
      }
    }
    // Enough inputs survive parsing for the printers to see odd but valid BTF.
    expect(printed).toBeGreaterThan(200);
  });

  it('names a missing type id in a partial dump', () => {
    expect(() => new BtfFixture().btf().toC({ types: [7] })).toThrow(/type id 7 does not exist/);
  });
});
