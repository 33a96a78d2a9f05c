import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BtfError } from '../index.ts';
import { BtfFixture } from './fixture.ts';
import { toTypeScript } from './typescript.ts';

/** A BTF with one of each construct the TypeScript printer handles; `event` uses them all. */
function sample(): BtfFixture {
  const b = new BtfFixture();
  const char = b.int('char', 1); // 1
  const u8 = b.typedef('u8', b.int('unsigned char', 1, false)); // 2, 3
  const u32 = b.typedef('u32', b.int('unsigned int', 4, false)); // 4, 5
  const u64 = b.typedef('u64', b.int('long long unsigned int', 8, false)); // 6, 7
  const bool = b.bool('_Bool'); // 8
  const int = b.int('int', 4); // 9
  const state = b.enum('state', 4, [
    ['RUNNING', 0],
    ['STOPPED', 4],
  ]);
  const flags = b.enum64('flags', [['HUGE', 1n << 40n]]);
  const point = b.struct('point', 8, [
    ['x', int, 0],
    ['y', int, 32],
  ]);
  const pointT = b.typedef('point', point);
  const anonT = b.typedef(
    'pair_t',
    b.struct('', 8, [
      ['a', u32, 0],
      ['b', u32, 32],
    ]),
  );
  const inUnion = b.union('', 8, [
    ['raw', u64, 0],
    ['half', b.array(u32, 2), 0],
  ]);
  const inline = b.struct('', 4, [['inner', int, 0]]);
  const keyword = b.struct('class', 4, [['default', int, 0]]);
  b.struct('event', 120, [
    ['pid', u32, 0],
    ['ok', bool, 32],
    ['ts', u64, 64],
    ['comm', b.array(char, 16), 128],
    ['bytes', b.array(u8, 4), 256],
    ['st', state, 288],
    ['fl', flags, 320],
    ['at', pointT, 384],
    ['pair', anonT, 448],
    ['', inUnion, 512],
    ['nested', inline, 576],
    ['task', b.ptr(point), 640],
    ['grid', b.array(b.array(b.const(int), 2), 2), 704],
    ['low', u32, 832, 3],
    ['wide', u64, 835, 40],
    ['kw', keyword, 896],
  ]);
  return b;
}

describe('toTypeScript', () => {
  const btf = sample().btf();
  const event = btf.typeByName('event', 'struct')!;
  const out = toTypeScript(btf, [event]);
  const decl = (name: string) => out.declarations.find((d) => d.name === name)!;

  it('declares the type and everything its values hold, dependencies first', () => {
    expect(out.declarations.map((d) => d.name)).toEqual([
      'u32',
      'u64',
      'u8',
      'state',
      'flags',
      'point',
      'pair_t',
      'class_',
      'event',
    ]);
    expect(out.code).toBe(out.declarations.map((d) => d.code).join('\n'));
    expect(out.littleEndian).toBe(true);
  });

  it('maps C types to TypeScript: bigint for 64 bits and pointers, string for char[N], arrays, records', () => {
    expect(decl('event').code).toBe(
      [
        '/** `struct event`: 120 bytes */',
        'export interface event {',
        '  /** `u32`, byte 0 */',
        '  pid: u32;',
        '  /** `_Bool`, byte 4 */',
        '  ok: boolean;',
        '  /** `u64`, byte 8 */',
        '  ts: u64;',
        '  /** `char[16]`, byte 16 */',
        '  comm: string;',
        '  /** `u8[4]`, byte 32 */',
        '  bytes: u8[];',
        '  /** `enum state`, byte 36 */',
        '  st: state;',
        '  /** `enum flags`, byte 40 */',
        '  fl: flags;',
        '  /** `point`, byte 48 */',
        '  at: point;',
        '  /** `pair_t`, byte 56 */',
        '  pair: pair_t;',
        '  /** `u64`, byte 64 */',
        '  raw: u64;',
        '  /** `u32[2]`, byte 64 */',
        '  half: u32[];',
        '  /** `struct (anon)`, byte 72 */',
        '  nested: { inner: number; };',
        '  /** `struct point *`, byte 80 */',
        '  task: bigint;',
        '  /** `const int[2][2]`, byte 88 */',
        '  grid: number[][];',
        '  /** `u32`, bits 832..835 */',
        '  low: number;',
        '  /** `u64`, bits 835..875 */',
        '  wide: bigint;',
        '  /** `struct class`, byte 112 */',
        '  kw: class_;',
        '}',
        '',
      ].join('\n'),
    );
    expect(decl('u64').code).toBe('/** `typedef long long unsigned int u64` */\nexport type u64 = bigint;\n');
    expect(decl('flags').code).toBe(
      '/** `enum flags`: 8 bytes, unsigned */\nexport const flags = {\n  HUGE: 1099511627776n,\n} as const;\nexport type flags = (typeof flags)[keyof typeof flags];\n',
    );
  });

  it('returns the layout facts a codec needs: offsets, sizes, bitfields, element strides', () => {
    const e = decl('event');
    expect(e).toMatchObject({ kind: 'struct', size: 120, align: 8 });
    if (e.kind !== 'struct') return;
    const field = (name: string) => e.fields.find((f) => f.name === name)!;
    expect(field('pid')).toEqual({
      name: 'pid',
      offset: 0,
      size: 4,
      bitOffset: 0,
      bitSize: 0,
      value: { kind: 'int', size: 4, signed: false },
    });
    expect(field('comm').value).toEqual({ kind: 'string', size: 16 });
    expect(field('bytes').value).toEqual({
      kind: 'array',
      count: 4,
      stride: 1,
      element: { kind: 'int', size: 1, signed: false },
    });
    expect(field('st').value).toEqual({ kind: 'enum', size: 4, signed: false, name: 'state' });
    expect(field('pair').value).toEqual({ kind: 'record', name: 'pair_t' });
    expect(field('half')).toMatchObject({ offset: 64, size: 8 });
    expect(field('nested').value).toMatchObject({ kind: 'inline', union: false, size: 4 });
    expect(field('task').value).toEqual({ kind: 'pointer', size: 8 });
    expect(field('wide')).toMatchObject({ offset: 104, size: 8, bitOffset: 835, bitSize: 40 });
    expect(e.fields.map((f) => f.name)).not.toContain('');
  });

  it('writes code that tsc --noEmit accepts under the strict options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'btf-ts-'));
    try {
      writeFileSync(join(dir, 'types.ts'), `${out.code}\nexport const probe: event['comm'] = 'x';\n`);
      // The strict options of the repo's base config, without its Node types.
      const compilerOptions = {
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        target: 'ES2023',
        module: 'NodeNext',
        types: [],
        noEmit: true,
      };
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['types.ts'] }));
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      const errors = (() => {
        try {
          execFileSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
          return '';
        } catch (e) {
          return String((e as { stdout?: string }).stdout ?? e);
        }
      })();
      expect(errors).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves comments out when asked', () => {
    const bare = toTypeScript(btf, [btf.typeByName('point', 'struct')!], { comments: false });
    expect(bare.code).toBe('export interface point {\n  x: number;\n  y: number;\n}\n');
  });

  it('refuses what has no TypeScript declaration with a BtfError naming the type', () => {
    expect(() => toTypeScript(btf, [1])).toThrow(BtfError);
    expect(() => toTypeScript(btf, [1])).toThrow(/type 1 \(char\) cannot be declared/);
    const fn = new BtfFixture();
    fn.typedef('handler_t', fn.proto(0, []));
    expect(() => toTypeScript(fn.btf(), [2])).toThrow(/typedef handler_t \(type 2\) names a func_proto/);
  });
});
