/**
 * Recursive-descent parser for the declarations of uapi headers: enums (values given by constant
 * expressions over earlier enumerators), structs and unions (nested, anonymous, bitfields, arrays,
 * pointers, `__attribute__((aligned(N), packed))`) and typedefs. Input is the preprocessor's output.
 */
import { type CValue, evalConstExpr } from './expr.ts';
import type { PToken } from './preprocessor.ts';
import { CSyntaxError, type Loc, type Token } from './tokenizer.ts';

/** A C type as the layout engine needs it. */
export type CType =
  | { readonly kind: 'void' }
  | {
      readonly kind: 'int';
      readonly name: string;
      readonly size: number;
      readonly signed: boolean;
      readonly align: number;
    }
  | { readonly kind: 'ptr'; readonly to: CType }
  | { readonly kind: 'array'; readonly elem: CType; readonly count: number }
  | { readonly kind: 'typedef'; readonly name: string; readonly to: CType; readonly align?: number }
  | { readonly kind: 'enum'; readonly tag: string | undefined }
  | CAggregate;

/** A struct or union; `members` is undefined for a forward declaration. */
export interface CAggregate {
  readonly kind: 'struct' | 'union';
  readonly tag: string | undefined;
  members: CMember[] | undefined;
  align?: number;
  packed?: boolean;
  loc: Loc;
}

/** One member of an aggregate; `name` is undefined for anonymous members and unnamed bitfields. */
export interface CMember {
  readonly name: string | undefined;
  readonly type: CType;
  readonly bitWidth: number | undefined;
  readonly align: number | undefined;
  readonly loc: Loc;
}

/** A parsed enum: its tag (undefined for anonymous ones) and members in declaration order. */
export interface CEnum {
  readonly tag: string | undefined;
  readonly members: ReadonlyArray<{ readonly name: string; readonly value: bigint; readonly loc: Loc }>;
  readonly loc: Loc;
}

/** Everything the parser collected from one translation unit. */
export interface ParsedHeader {
  readonly enums: CEnum[];
  /** Tagged structs and unions by `struct tag` / `union tag`. */
  readonly aggregates: Map<string, CAggregate>;
  readonly typedefs: Map<string, CType>;
  /** All enumerators by name. */
  readonly constants: Map<string, CValue>;
}

const int = (name: string, size: number, signed: boolean): CType => ({
  kind: 'int',
  name,
  size,
  signed,
  align: size,
});

/** Typedefs of linux/types.h and asm/types.h (LP64), which bpf.h uses without defining. */
export const BUILTIN_TYPEDEFS: ReadonlyMap<string, CType> = new Map<string, CType>([
  ['__u8', int('__u8', 1, false)],
  ['__s8', int('__s8', 1, true)],
  ['__u16', int('__u16', 2, false)],
  ['__s16', int('__s16', 2, true)],
  ['__u32', int('__u32', 4, false)],
  ['__s32', int('__s32', 4, true)],
  ['__u64', int('__u64', 8, false)],
  ['__s64', int('__s64', 8, true)],
  ['__be16', int('__be16', 2, false)],
  ['__le16', int('__le16', 2, false)],
  ['__be32', int('__be32', 4, false)],
  ['__le32', int('__le32', 4, false)],
  ['__be64', int('__be64', 8, false)],
  ['__le64', int('__le64', 8, false)],
  ['__sum16', int('__sum16', 2, false)],
  ['__wsum', int('__wsum', 4, false)],
  ['__aligned_u64', { kind: 'typedef', name: '__aligned_u64', to: int('__u64', 8, false), align: 8 }],
  ['__aligned_be64', { kind: 'typedef', name: '__aligned_be64', to: int('__be64', 8, false), align: 8 }],
  ['__aligned_le64', { kind: 'typedef', name: '__aligned_le64', to: int('__le64', 8, false), align: 8 }],
  ['size_t', int('size_t', 8, false)],
]);

const QUALIFIERS = new Set([
  'const',
  'volatile',
  'restrict',
  '__restrict',
  '__restrict__',
  '__extension__',
  'static',
  'extern',
  'inline',
  '__inline',
]);
const BASE_WORDS = new Set([
  'void',
  'char',
  'short',
  'int',
  'long',
  'signed',
  'unsigned',
  '_Bool',
  'float',
  'double',
]);

function baseType(words: string[], at: Token): CType {
  const has = (w: string): boolean => words.includes(w);
  const longs = words.filter((w) => w === 'long').length;
  const unsigned = has('unsigned');
  const spelled = words.join(' ');
  if (has('void')) return { kind: 'void' };
  if (has('_Bool')) return int('_Bool', 1, false);
  if (has('float')) return int('float', 4, true);
  if (has('double')) return int(spelled, longs ? 16 : 8, true);
  if (has('char')) return int(spelled, 1, !unsigned);
  if (has('short')) return int(spelled, 2, !unsigned);
  if (longs > 0) return int(spelled, 8, !unsigned);
  if (has('int') || unsigned || has('signed')) return int(spelled, 4, !unsigned);
  throw new CSyntaxError(at, `cannot make a type of '${spelled}'`);
}

/** Parses preprocessed tokens of a header into enums, aggregates and typedefs. */
export function parseDeclarations(
  tokens: readonly PToken[],
  known: ParsedHeader | undefined = undefined,
): ParsedHeader {
  const result: ParsedHeader = known ?? {
    enums: [],
    aggregates: new Map(),
    typedefs: new Map(),
    constants: new Map(),
  };
  let i = 0;
  const peek = (o = 0): PToken | undefined => tokens[i + o];
  const last = (): Token =>
    tokens[Math.min(i, tokens.length - 1)] ?? {
      kind: 'punct',
      text: '',
      file: '<input>',
      line: 0,
      bol: false,
      space: false,
    };
  const fail = (msg: string): never => {
    throw new CSyntaxError(last(), msg);
  };
  const is = (text: string): boolean => peek()?.text === text && peek()?.kind !== 'string';
  const accept = (text: string): boolean => {
    if (is(text)) {
      i++;
      return true;
    }
    return false;
  };
  const expect = (text: string, what = `'${text}'`): Token => {
    const t = peek();
    if (!t || t.text !== text) fail(`expected ${what}, found ${t ? `'${t.text}'` : 'end of file'}`);
    i++;
    return t!;
  };
  const lookup = (name: string): CValue | undefined => result.constants.get(name);

  /** Collects tokens of a constant expression up to (not including) one of `stops` at depth 0. */
  const exprTokens = (stops: string[]): Token[] => {
    const start = i;
    let depth = 0;
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (depth === 0 && stops.includes(t.text)) break;
      if (t.text === '(' || t.text === '[') depth++;
      else if (t.text === ')' || t.text === ']') depth--;
      if (depth < 0) break;
      i++;
    }
    return tokens.slice(start, i) as Token[];
  };
  const constExpr = (stops: string[]): CValue => {
    const at = last();
    const toks = exprTokens(stops);
    if (toks.length === 0) fail('constant expression expected');
    return evalConstExpr(toks, lookup, at);
  };

  /** `__attribute__((...))` lists; returns alignment and packedness found. */
  const attributes = (): { align?: number; packed?: boolean } => {
    const res: { align?: number; packed?: boolean } = {};
    while (is('__attribute__') || is('__attribute')) {
      i++;
      expect('(');
      expect('(');
      while (!is(')')) {
        const name = peek();
        if (name?.kind !== 'ident') fail('attribute name expected');
        i++;
        const n = name!.text.replace(/^__(.*)__$/, '$1');
        if (accept('(')) {
          if (n === 'aligned') {
            res.align = Number(constExpr([')']).value);
          } else {
            let depth = 0;
            while (i < tokens.length && !(depth === 0 && is(')'))) {
              if (is('(')) depth++;
              if (is(')')) depth--;
              i++;
            }
          }
          expect(')');
        } else if (n === 'packed') res.packed = true;
        else if (n === 'aligned') res.align = 16;
        if (!accept(',')) break;
      }
      expect(')');
      expect(')');
    }
    return res;
  };

  const enumSpec = (): CType => {
    const at = expect('enum');
    attributes();
    let tag: string | undefined;
    if (peek()?.kind === 'ident') tag = tokens[i++]!.text;
    if (accept('{')) {
      const members: Array<{ name: string; value: bigint; loc: Loc }> = [];
      let next: CValue = { value: 0n, bits: 32, unsigned: false };
      while (!is('}')) {
        const name = peek();
        if (name?.kind !== 'ident') fail(`enumerator name expected in enum ${tag ?? '(anonymous)'}`);
        i++;
        let value = next;
        if (accept('=')) value = constExpr([',', '}']);
        if (result.constants.has(name!.text)) {
          const prev = result.constants.get(name!.text)!;
          if (prev.value !== value.value)
            throw new CSyntaxError(name!, `enumerator ${name!.text} redefined with a different value`);
        }
        result.constants.set(name!.text, value);
        members.push({ name: name!.text, value: value.value, loc: { file: name!.file, line: name!.line } });
        next = { ...value, value: value.value + 1n };
        attributes();
        if (!accept(',')) break;
      }
      expect('}', "'}' or ',' after enumerator");
      result.enums.push({ tag, members, loc: { file: at.file, line: at.line } });
    } else if (!tag) fail('enum needs a tag or a body');
    return { kind: 'enum', tag };
  };

  const aggregateSpec = (): CType => {
    const kw = tokens[i++]!;
    const kind = kw.text as 'struct' | 'union';
    const pre = attributes();
    let tag: string | undefined;
    if (peek()?.kind === 'ident' && !is('__attribute__')) tag = tokens[i++]!.text;
    const key = tag ? `${kind} ${tag}` : undefined;
    let agg: CAggregate | undefined = key ? result.aggregates.get(key) : undefined;
    if (!agg) {
      agg = { kind, tag, members: undefined, loc: { file: kw.file, line: kw.line } };
      if (key) result.aggregates.set(key, agg);
    }
    if (accept('{')) {
      if (agg.members) throw new CSyntaxError(kw, `redefinition of ${key}`);
      const members: CMember[] = [];
      while (!is('}')) {
        if (i >= tokens.length) throw new CSyntaxError(kw, `unterminated ${kind} ${tag ?? ''}`.trim());
        memberDecl(members);
      }
      expect('}');
      agg.members = members;
      agg.loc = { file: kw.file, line: kw.line };
      const post = attributes();
      const align = post.align ?? pre.align;
      if (align !== undefined) agg.align = align;
      if (post.packed || pre.packed) agg.packed = true;
    }
    return agg;
  };

  /** Type specifier: qualifiers, a base type or tag or typedef name, attributes. */
  const typeSpec = (): CType => {
    const words: string[] = [];
    let type: CType | undefined;
    const start = peek();
    for (;;) {
      const t = peek();
      if (t?.kind !== 'ident') break;
      if (QUALIFIERS.has(t.text)) {
        i++;
        continue;
      }
      if (t.text === '__attribute__') {
        attributes();
        continue;
      }
      if (type || (words.length && !BASE_WORDS.has(t.text))) break;
      if (t.text === 'struct' || t.text === 'union') {
        type = aggregateSpec();
        continue;
      }
      if (t.text === 'enum') {
        type = enumSpec();
        continue;
      }
      if (BASE_WORDS.has(t.text)) {
        words.push(t.text);
        i++;
        continue;
      }
      const td = result.typedefs.get(t.text) ?? BUILTIN_TYPEDEFS.get(t.text);
      if (td && words.length === 0) {
        i++;
        type = td.kind === 'typedef' ? td : { kind: 'typedef', name: t.text, to: td };
        continue;
      }
      throw new CSyntaxError(t, `unknown type name '${t.text}'`);
    }
    if (type) return type;
    if (words.length) return baseType(words, start as Token);
    return fail(`type expected, found ${peek() ? `'${peek()!.text}'` : 'end of file'}`);
  };

  /** Declarator: pointers, optional name, array suffixes. Function declarators are skipped over. */
  const declarator = (base: CType): { name: string | undefined; type: CType; at: Token } => {
    let type = base;
    while (accept('*')) {
      type = { kind: 'ptr', to: type };
      while (peek() && QUALIFIERS.has(peek()!.text)) i++;
    }
    const at = last();
    let name: string | undefined;
    if (accept('(')) {
      // (*name)(params): a function pointer, stored as a pointer.
      expect('*', "'*' in a function pointer declarator");
      if (peek()?.kind === 'ident') name = tokens[i++]!.text;
      expect(')');
      skipParens();
      return { name, type: { kind: 'ptr', to: { kind: 'void' } }, at };
    }
    if (peek()?.kind === 'ident' && !is('__attribute__')) name = tokens[i++]!.text;
    if (is('(')) {
      skipParens();
      return { name, type: { kind: 'ptr', to: { kind: 'void' } }, at };
    }
    const dims: number[] = [];
    while (accept('[')) {
      if (accept(']')) dims.push(0);
      else {
        const v = constExpr([']']);
        if (v.value < 0n) fail('negative array size');
        dims.push(Number(v.value));
        expect(']');
      }
    }
    for (let d = dims.length - 1; d >= 0; d--) type = { kind: 'array', elem: type, count: dims[d]! };
    return { name, type, at };
  };

  const skipParens = (): void => {
    expect('(');
    let depth = 1;
    while (depth > 0) {
      if (i >= tokens.length) fail("unbalanced '('");
      const t = tokens[i++]!;
      if (t.text === '(') depth++;
      else if (t.text === ')') depth--;
    }
  };

  const memberDecl = (members: CMember[]): void => {
    const first = peek()!;
    const base = typeSpec();
    if (accept(';')) {
      // Anonymous struct/union member (or a stray declaration without declarator).
      if (base.kind === 'struct' || base.kind === 'union') {
        members.push({
          name: undefined,
          type: base,
          bitWidth: undefined,
          align: undefined,
          loc: { file: first.file, line: first.line },
        });
      }
      return;
    }
    for (;;) {
      let name: string | undefined;
      let type = base;
      let at: Token = last();
      if (!is(':')) ({ name, type, at } = declarator(base));
      let bitWidth: number | undefined;
      if (accept(':')) bitWidth = Number(constExpr([';', ',', '__attribute__']).value);
      const attrs = attributes();
      if (
        name === undefined &&
        bitWidth === undefined &&
        !(type.kind === 'struct' || type.kind === 'union')
      ) {
        fail('member name expected');
      }
      members.push({ name, type, bitWidth, align: attrs.align, loc: { file: at.file, line: at.line } });
      if (accept(',')) continue;
      expect(';', "';' after struct member");
      return;
    }
  };

  const topLevel = (): void => {
    if (accept(';')) return;
    const isTypedef = accept('typedef');
    const base = typeSpec();
    if (accept(';')) return;
    for (;;) {
      const { name, type } = declarator(base);
      attributes();
      if (isTypedef) {
        if (!name) fail('typedef needs a name');
        result.typedefs.set(name!, { kind: 'typedef', name: name!, to: type });
      }
      if (accept('=')) exprTokens([',', ';']);
      if (accept(',')) continue;
      expect(';', "';' after declaration");
      return;
    }
  };

  while (i < tokens.length) topLevel();
  return result;
}
