/**
 * The CO-RE engine's rules on small local and target BTF compiled by clang (no kernel needed):
 * flavours, candidate search and its ambiguities, module fallback, poisoning, the type match
 * rules, enum values and the width checks of field loads. `core.kernel.test.ts` in
 * `@ebpf/object` compares the whole engine with libbpf on this kernel.
 */
import { btfOfSource, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { CoreReloKind as K } from '@ebpf/uapi';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutate, random } from '../../fuzz/fuzz.ts';
import { Btf } from '../btf.ts';
import { BtfError } from '../error.ts';
import type { Kind } from '../types.ts';
import { CoreError } from './error.ts';
import { type CoreRelocationRecord, CoreResolver, coreFixup } from './fixup.ts';
import { essentialName } from './names.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());

// What a program was compiled against.
const LOCAL = `
struct foo { int x; };
struct foo___y { int y; };
struct foo___xy { int x; int y; };
struct pair { int a; int b; };
struct anon_holder { struct { int inner; }; int after; };
struct narrow { short s; unsigned short u; void *p; };
struct flex { int n; int items[]; };
struct m_ok { int a; };
struct m_sign { int a; };
struct bar { int z; };
struct only_here { int q; };
enum colour { RED = 1, BLUE = 2 };
enum wide { BIG = 0x100000000ULL };
enum neg { MINUS = -2 };
struct foo g_foo; struct foo___y g_fooy; struct foo___xy g_fooxy; struct pair g_pair; struct anon_holder g_anon;
struct narrow g_narrow; struct flex g_flex; struct m_ok g_mok; struct m_sign g_msign;
struct bar g_bar; struct only_here g_only; enum colour g_colour; enum wide g_wide; enum neg g_neg;
struct { int a; } g_anonymous;
`;

// The "kernel": two flavours of foo that disagree on where x is, a reordered pair, the anonymous
// member flattened differently, wider fields, and types that only match loosely.
const TARGET = `
struct foo___one { long pad; int x; };
struct foo___two { int x; int y; };
struct pair { long pad; int b; int a; };
struct anon_holder { long pad; union { int inner; long other; }; int after; };
struct narrow { int s; unsigned int u; void *p; };
struct flex { long pad; int n; int items[]; };
struct m_ok { int a; long extra; };
struct m_sign { unsigned int a; };
enum colour { GREEN = 0, BLUE = 7 };
enum wide { BIG = 0x200000000ULL };
enum neg { MINUS = -5 };
struct foo___one g_one; struct foo___two g_two; struct pair g_pair; struct anon_holder g_anon;
struct narrow g_narrow; struct flex g_flex; struct m_ok g_mok; struct m_sign g_msign;
enum colour g_colour; enum wide g_wide; enum neg g_neg;
`;

// A module: the one place struct bar exists.
const MODULE = `struct bar { long pad; int z; }; struct bar g_bar;`;

let local: Btf;
let target: Btf;
let module: Btf;

beforeAll(() => {
  requireTools(['clang-16', 'llvm-objcopy-16']);
  local = Btf.parse(btfOfSource(scratch, 'local', LOCAL));
  target = Btf.parse(btfOfSource(scratch, 'target', TARGET));
  module = Btf.parse(btfOfSource(scratch, 'module', MODULE));
});

const id = (name: string, kind: Kind = 'struct') => local.typeByName(name, kind)!.id;
const relo = (
  name: string,
  accessString: string,
  kind: number,
  typeKind: Kind = 'struct',
): CoreRelocationRecord => ({
  typeId: id(name, typeKind),
  accessString,
  kind,
});
const fix = (r: CoreRelocationRecord, targets = [target]) => coreFixup(local, r, targets);

describe('essential names', () => {
  it.each([
    ['task_struct', 'task_struct'],
    ['task_struct___old', 'task_struct'],
    ['a___b___c', 'a___b'],
    ['trailing___', 'trailing___'],
    ['__leading', '__leading'],
    ['x____y', 'x____y'],
    ['x___y', 'x'],
  ])('%s → %s', (name, essential) => expect(essentialName(name)).toBe(essential));
});

describe('field relocations', () => {
  it('follows a member to where the target has it, by name', () => {
    const f = fix(relo('pair', '0:0', K.FieldByteOffset));
    expect([f.local, f.target, f.poison]).toEqual([0n, 12n, false]);
    expect([f.localSize, f.targetSize, f.badSizeChange]).toEqual([4, 4, false]);
    expect(f.candidate?.btf).toBe(target);
  });

  it('looks through anonymous members on both sides', () => {
    expect(fix(relo('anon_holder', '0:0:0', K.FieldByteOffset)).target).toBe(8n);
    expect(fix(relo('anon_holder', '0:1', K.FieldByteOffset)).target).toBe(16n);
  });

  it('steps through the root as an array and into flexible arrays past their length', () => {
    expect(fix(relo('pair', '2:1', K.FieldByteOffset))).toMatchObject({ local: 20n, target: 40n });
    expect(fix(relo('flex', '0:1:5', K.FieldByteOffset))).toMatchObject({ local: 24n, target: 32n });
  });

  it('tells which size changes a load may follow: unsigned ints and pointers, not signed ones', () => {
    expect(fix(relo('narrow', '0:0', K.FieldByteOffset))).toMatchObject({
      localSize: 2,
      targetSize: 4,
      badSizeChange: true,
    });
    expect(fix(relo('narrow', '0:1', K.FieldByteOffset))).toMatchObject({
      localSize: 2,
      targetSize: 4,
      badSizeChange: false,
    });
    expect(fix(relo('narrow', '0:1', K.FieldByteSize))).toMatchObject({ local: 2n, target: 4n });
    expect(fix(relo('narrow', '0:0', K.FieldSigned)).target).toBe(1n);
    expect(fix(relo('narrow', '0:1', K.FieldSigned)).target).toBe(0n);
  });

  it('poisons a missing field, but answers "exists" with 0', () => {
    expect(fix(relo('foo___y', '0:0', K.FieldByteOffset)).poison).toBe(false); // foo___two has y
    expect(fix(relo('only_here', '0:0', K.FieldByteOffset))).toMatchObject({
      poison: true,
      candidate: undefined,
    });
    expect(fix(relo('only_here', '0:0', K.FieldExists))).toMatchObject({
      poison: false,
      local: 1n,
      target: 0n,
    });
  });

  it('refuses candidates that disagree, naming both', () => {
    const run = () => fix(relo('foo', '0:0', K.FieldByteOffset));
    expect(run).toThrow(CoreError);
    expect(run).toThrow(/foo___one.*foo___two|foo___two.*foo___one/);
  });

  it('keeps only the candidates that matched for the next relocations of the same type', () => {
    // y exists only in foo___two; after that, x resolves there alone and is no longer ambiguous.
    const resolver = new CoreResolver(local, [target]);
    expect(resolver.fixup(relo('foo___xy', '0:1', K.FieldByteOffset)).target).toBe(4n);
    const x = resolver.fixup(relo('foo___xy', '0:0', K.FieldByteOffset));
    expect(x.target).toBe(0n);
    expect(target.typeById(x.candidate!.id).name).toBe('foo___two');
    expect(() => new CoreResolver(local, [target]).fixup(relo('foo___xy', '0:0', K.FieldByteOffset))).toThrow(
      /different field offsets/,
    );
  });

  it('asks for more module BTFs once, when a type first has no candidate', () => {
    let asked = 0;
    const modules = () => {
      asked++;
      return [module];
    };
    const resolver = new CoreResolver(local, [target], { modules });
    expect(resolver.fixup(relo('pair', '0:0', K.FieldByteOffset)).candidate?.btf).toBe(target);
    expect(asked).toBe(0);
    expect(resolver.fixup(relo('bar', '0:0', K.FieldByteOffset))).toMatchObject({ target: 8n });
    expect(resolver.fixup(relo('only_here', '0:0', K.FieldExists)).target).toBe(0n);
    expect(asked).toBe(1);
  });

  it('searches modules only when the kernel has no candidate', () => {
    expect(fix(relo('bar', '0:0', K.FieldByteOffset), [target, module])).toMatchObject({ target: 8n });
    expect(fix(relo('bar', '0:0', K.FieldByteOffset), [target, module]).candidate?.btf).toBe(module);
    expect(fix(relo('pair', '0:0', K.FieldByteOffset), [target, module]).candidate?.btf).toBe(target);
  });
});

describe('type relocations', () => {
  it('answers exists, size, target id and local id', () => {
    const pair = target.typeByName('pair', 'struct')!;
    expect(fix(relo('pair', '0', K.TypeExists)).target).toBe(1n);
    expect(fix(relo('pair', '0', K.TypeSize))).toMatchObject({ local: 8n, target: 16n });
    expect(fix(relo('pair', '0', K.TypeIdTarget))).toMatchObject({
      target: BigInt(pair.id),
      validate: false,
    });
    expect(fix(relo('pair', '0', K.TypeIdLocal))).toMatchObject({
      local: BigInt(id('pair')),
      target: BigInt(id('pair')),
    });
    expect(fix(relo('only_here', '0', K.TypeExists))).toMatchObject({ local: 1n, target: 0n, poison: false });
    expect(fix(relo('only_here', '0', K.TypeSize))).toMatchObject({ target: 0n, poison: false });
  });

  it('matches types more strictly than it finds them compatible', () => {
    expect(fix(relo('m_ok', '0', K.TypeMatches)).target).toBe(1n);
    // Signedness differs: compatible (exists) but no match.
    expect(fix(relo('m_sign', '0', K.TypeExists)).target).toBe(1n);
    expect(fix(relo('m_sign', '0', K.TypeMatches)).target).toBe(0n);
    // Every local member must have a namesake: pair's a and b are both there, reordered.
    expect(fix(relo('pair', '0', K.TypeMatches)).target).toBe(1n);
    // colour's RED is not in the target's enum.
    expect(fix(relo('colour', '0', K.TypeMatches, 'enum')).target).toBe(0n);
  });
});

describe('enum relocations', () => {
  it('finds enumerators by name and reads their target values, 64-bit and negative ones too', () => {
    expect(fix(relo('colour', '1', K.EnumvalValue, 'enum'))).toMatchObject({ local: 2n, target: 7n });
    expect(fix(relo('colour', '0', K.EnumvalExists, 'enum')).target).toBe(0n);
    expect(fix(relo('colour', '0', K.EnumvalValue, 'enum')).poison).toBe(true);
    const wide = local.typeByName('wide')!;
    expect(fix({ typeId: wide.id, accessString: '0', kind: K.EnumvalValue })).toMatchObject({
      local: 0x100000000n,
      target: 0x200000000n,
    });
    // A 32-bit enumerator is sign-extended, as libbpf reads it.
    expect(fix(relo('neg', '0', K.EnumvalValue, 'enum')).target).toBe(BigInt.asUintN(64, -5n));
  });
});

describe('relocations that cannot be computed', () => {
  it.each([
    ['an access string that is not numbers', () => relo('pair', '0:x', K.FieldByteOffset), /form 0:1:2/],
    ['a member index past the end', () => relo('pair', '0:7', K.FieldByteOffset), /no member #7/],
    ['a type relocation with a field path', () => relo('pair', '0:1', K.TypeSize), /access string "0"/],
    [
      'an enumerator index past the end',
      () => relo('colour', '9', K.EnumvalValue, 'enum'),
      /no enumerator #9/,
    ],
    ['an unknown kind', () => relo('pair', '0:0', 99), /kind 99 is unknown/],
    ['signedness of an array element', () => relo('flex', '0:1:0', K.FieldSigned), /array element/],
  ])('%s is a CoreError saying so', (_, record, message) => {
    expect(() => fix(record())).toThrow(CoreError);
    expect(() => fix(record())).toThrow(message);
  });

  it('names anonymous roots', () => {
    const anonymous = local.resolve((local.typeByName('g_anonymous', 'var') as { type: number }).type);
    expect(() => fix({ typeId: anonymous.id, accessString: '0', kind: K.TypeExists })).toThrow(/anonymous/);
  });
});

describe('hostile relocation records', () => {
  it('get a fixup or a CoreError, nothing else, for any type id, access string and kind', () => {
    const resolver = new CoreResolver(local, [target, module]);
    const accessString = fc.oneof(
      fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 5 }).map((a) => a.join(':')),
      fc.array(fc.nat({ max: 70 }), { minLength: 1, maxLength: 70 }).map((a) => a.join(':')),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(
        fc.nat({ max: local.nextId + 3 }),
        accessString,
        fc.nat({ max: 14 }),
        (typeId, access, kind) => {
          try {
            const f = resolver.fixup({ typeId, accessString: access, kind });
            expect(typeof f.target).toBe('bigint');
          } catch (e) {
            if (!(e instanceof CoreError)) throw e;
          }
        },
      ),
      { numRuns: 10_000 },
    );
  });
});

describe('hostile BTF', () => {
  it('corrupted local and target BTF give fixups, CoreErrors or (at parse) BtfErrors only', () => {
    const localBytes = btfOfSource(scratch, 'local', LOCAL);
    const targetBytes = btfOfSource(scratch, 'target', TARGET);
    const records = [
      relo('pair', '0:1', K.FieldByteOffset),
      relo('anon_holder', '0:0:0', K.FieldByteOffset),
      relo('flex', '0:1:5', K.FieldByteSize),
      relo('narrow', '0:0', K.FieldSigned),
      relo('m_ok', '0', K.TypeMatches),
      relo('pair', '0', K.TypeSize),
      relo('colour', '1', K.EnumvalValue, 'enum'),
    ];
    const rand = random(12);
    for (let i = 0; i < 2_000; i++) {
      const mutateLocal = rand(2) === 0;
      let l: Btf;
      let t: Btf;
      try {
        l = mutateLocal ? Btf.parse(mutate(localBytes, rand)) : local;
        t = mutateLocal ? target : Btf.parse(mutate(targetBytes, rand));
      } catch (e) {
        if (e instanceof BtfError) continue;
        throw e;
      }
      const resolver = new CoreResolver(l, [t]);
      for (const r of records) {
        try {
          resolver.fixup(r);
        } catch (e) {
          if (!(e instanceof CoreError)) throw new Error(`input ${i}: ${String(e)}`, { cause: e });
        }
      }
    }
  });
});
