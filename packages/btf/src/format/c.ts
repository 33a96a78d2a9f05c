/**
 * BTF as a C header, written the way libbpf's btf_dump writes it (so `bpftool btf dump file
 * /sys/kernel/btf/vmlinux format c` prints the same bytes): each requested type is first
 * ordered after what it needs (a topological sort where embedding is a strong edge and a pointer
 * to a named type a weak one, satisfied by a forward declaration), then emitted with the
 * declarations still missing. Anonymous types are written inline where they are used.
 */
import type { Btf } from '../btf.ts';
import { BtfError } from '../error.ts';
import type { Enum, Enum64, Fwd, Struct, Type, Typedef, TypeId, Union } from '../types.ts';
import { CNames } from './c-names.ts';
import { Layout, POINTER_SIZE } from './layout.ts';

/** Options of {@link Btf.toC}. */
export interface CDumpOptions {
  /**
   * Writes only these types (ids or types of this BTF) and everything they need, in an order
   * that compiles. Without it, every type is written, as bpftool does.
   */
  readonly types?: readonly (TypeId | Type)[];
}

const HEADER = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

`;
const FOOTER = `#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`;

/** Writes `btf` as a C header (vmlinux.h); see {@link CDumpOptions} for a partial dump. */
export function toC(btf: Btf, options: CDumpOptions = {}): string {
  const dump = new CDump(btf);
  if (options.types) for (const t of options.types) dump.type(typeof t === 'number' ? t : t.id);
  else for (let id = 1; id < btf.nextId; id++) dump.type(id);
  return HEADER + dump.header + FOOTER;
}

/** Where a type is in the topological sort. */
const Order = { None: 0, Ordering: 1, Ordered: 2 } as const;
/** Whether a type's definition is written. */
const Emit = { None: 0, Emitting: 1, Emitted: 2 } as const;

/** Deeper chains of pointers, qualifiers and typedefs than this are a loop in hostile input. */
const MAX_CHAIN = 256;
/** The longest one statement may be (vmlinux's longest are a few kB). */
const MAX_STATEMENT = 16 << 20;
/** The widest gap between members written as padding (1 MiB). */
const MAX_GAP_BITS = 8 << 20;
/** libbpf indents by tabs up to this many. */
const MAX_INDENT = 13;
const INDENTS = Array.from({ length: MAX_INDENT + 1 }, (_, n) => '\t'.repeat(n));
const indent = (level: number): string => INDENTS[Math.min(level, MAX_INDENT)]!;

/** Explicit padding types, widest first, and their bits. */
const PADS: readonly (readonly [string, number])[] = [
  ['long', POINTER_SIZE * 8],
  ['int', 32],
  ['short', 16],
  ['char', 8],
];

/** GCC's internal Arm SIMD names that clang does not know, and what they stand for. */
const MISSING_BASE_TYPES = new Map([
  ['__Poly8_t', 'unsigned char'],
  ['__Poly16_t', 'unsigned short'],
  ['__Poly64_t', 'unsigned long long'],
  ['__Poly128_t', 'unsigned __int128'],
]);

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/** One dump: what is ordered and written so far, so that each type is defined once. */
class CDump {
  /** The statement being written. */
  private text = '';
  /** The statements written, each one flat string. */
  private readonly done: string[] = [];
  private readonly layout: Layout;
  private readonly names = new CNames();
  private readonly order: Uint8Array;
  private readonly emit: Uint8Array;
  private readonly fwdEmitted: Uint8Array;
  /** Types some other type refers to: an anonymous enum nobody uses is a top-level one (constants). */
  private readonly referenced: Uint8Array;
  private queue: TypeId[] = [];
  /** Anonymous structs and unions whose members were defined, and for which container. */
  private readonly walked = new Map<TypeId, TypeId>();

  constructor(private readonly btf: Btf) {
    this.layout = new Layout(btf);
    const n = btf.nextId;
    this.order = new Uint8Array(n);
    this.emit = new Uint8Array(n);
    this.fwdEmitted = new Uint8Array(n);
    this.referenced = markReferenced(btf);
    this.order[0] = Order.Ordered;
    this.emit[0] = Emit.Emitted;
  }

  /** Everything written. */
  get header(): string {
    return this.done.join('') + this.text;
  }

  /** Writes type `id` after whatever it needs that is not written yet. */
  type(id: TypeId): void {
    this.btf.typeById(id);
    this.queue = [];
    this.sort(id, false, 0);
    for (const queued of this.queue) this.define(queued, 0);
  }

  /**
   * Queues the definitions `id` needs, then `id` if it is a definition. True when reaching `id`
   * needs its full definition (a strong edge), false when a forward declaration would do.
   */
  private sort(id: TypeId, throughPtr: boolean, depth: number): boolean {
    if (this.order[id] === Order.Ordered) return true;
    if (depth > MAX_CHAIN) throw loop(id);
    const t = this.btf.typeById(id);
    if (this.order[id] === Order.Ordering) {
      if ((t.kind === 'struct' || t.kind === 'union') && throughPtr && t.name !== '') return false;
      throw new BtfError(`type ${id} (${this.btf.nameOf(id)}) contains itself: C cannot define it`, -1);
    }
    switch (t.kind) {
      case 'int':
      case 'float':
        this.order[id] = Order.Ordered;
        return false;
      case 'ptr': {
        const strong = this.sort(t.target, true, depth + 1);
        this.order[id] = Order.Ordered;
        return strong;
      }
      case 'array':
        return this.sort(t.element, false, depth + 1);
      case 'struct':
      case 'union':
        // A named one behind a pointer can be declared ahead; an anonymous one is written inline.
        if (throughPtr && t.name !== '') return false;
        this.order[id] = Order.Ordering;
        for (const m of t.members) this.sort(m.type, false, depth + 1);
        if (t.name !== '') this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      case 'enum':
      case 'enum64':
      case 'fwd':
        if (t.name !== '' || !this.referenced[id]) this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      case 'typedef': {
        const strong = this.sort(t.target, throughPtr, depth + 1);
        if (throughPtr && !strong) return false;
        this.queue.push(id);
        this.order[id] = Order.Ordered;
        return true;
      }
      case 'const':
      case 'volatile':
      case 'restrict':
      case 'type_tag':
        return this.sort(t.target, throughPtr, depth + 1);
      case 'func_proto': {
        let strong = this.sort(t.returns, throughPtr, depth + 1);
        for (const p of t.params) if (this.sort(p.type, throughPtr, depth + 1)) strong = true;
        return strong;
      }
      default:
        // Functions, variables, sections and tags have no C type definition.
        this.order[id] = Order.Ordered;
        return false;
    }
  }

  /**
   * Writes what `id` needs declared, then `id` itself when it is a top-level definition
   * (`container` 0); inside the definition of `container`, a named struct only gets a forward
   * declaration.
   */
  private define(id: TypeId, container: TypeId, depth = 0): void {
    if (this.emit[id] === Emit.Emitted) return;
    if (depth > MAX_CHAIN) throw loop(id);
    const t = this.btf.typeById(id);
    if (this.emit[id] === Emit.Emitting) {
      this.declareAhead(t, container);
      return;
    }
    const topLevel = container === 0;
    switch (t.kind) {
      case 'int': {
        const name = this.names.tag(t);
        const alias = MISSING_BASE_TYPES.get(name);
        if (alias) this.text += `typedef ${alias} ${name};\n\n`;
        this.emit[id] = Emit.Emitted;
        break;
      }
      case 'enum':
      case 'enum64':
        if (topLevel) this.statement(() => this.enumDef(t, 0));
        this.emit[id] = Emit.Emitted;
        break;
      case 'ptr':
      case 'const':
      case 'volatile':
      case 'restrict':
      case 'type_tag':
        this.define(t.target, container, depth + 1);
        break;
      case 'array':
        this.define(t.element, container, depth + 1);
        break;
      case 'fwd':
        this.statement(() => this.fwdDecl(t));
        this.emit[id] = Emit.Emitted;
        break;
      case 'typedef':
        this.emit[id] = Emit.Emitting;
        this.define(t.target, id, depth + 1);
        // Someone behind a pointer may have needed the typedef already (declareAhead).
        if (!this.fwdEmitted[id] && !isCompilerBuiltin(t)) this.statement(() => this.typedefDef(t, 0));
        this.emit[id] = Emit.Emitted;
        break;
      case 'struct':
      case 'union':
        this.emit[id] = Emit.Emitting;
        if (topLevel || t.name === '') {
          const inner = t.name === '' ? container : id;
          // Walking an anonymous type's members again for the same container declares nothing
          // new; skipping it keeps BTF that shares nested anonymous types from taking 2^depth steps.
          if (t.name !== '' || this.walked.get(id) !== container) {
            if (t.name === '') this.walked.set(id, container);
            for (const m of t.members) this.define(m.type, inner, depth + 1);
          }
        } else if (!this.fwdEmitted[id] && id !== container) {
          this.statement(() => this.compositeDecl(t));
          this.fwdEmitted[id] = 1;
        }
        if (topLevel) {
          this.statement(() => this.compositeDef(t, 0));
          this.emit[id] = Emit.Emitted;
        } else {
          this.emit[id] = Emit.None;
        }
        break;
      case 'func_proto':
        this.define(t.returns, container, depth + 1);
        for (const p of t.params) this.define(p.type, container, depth + 1);
        break;
      default:
        break;
    }
  }

  /** `t` is being defined and is needed again from inside: declare it ahead if C allows. */
  private declareAhead(t: Type, container: TypeId): void {
    if (this.fwdEmitted[t.id]) return;
    if (t.kind === 'struct' || t.kind === 'union') {
      // Its own members may point at it; an anonymous one cannot be declared (libbpf skips it too).
      if (t.id === container || t.name === '') return;
      this.statement(() => this.compositeDecl(t));
      this.fwdEmitted[t.id] = 1;
    } else if (t.kind === 'typedef') {
      // A typedef of a struct declares that struct: good enough for pointers to it.
      if (!isCompilerBuiltin(t)) this.statement(() => this.typedefDef(t, 0));
      this.fwdEmitted[t.id] = 1;
    }
  }

  private statement(write: () => void): void {
    write();
    this.text += ';\n\n';
    // Converting a string to a number makes V8 flatten it: one flat string per statement instead
    // of a tree of millions of small concatenations, which halves the collector's work on vmlinux.
    Number(this.text);
    this.done.push(this.text);
    this.text = '';
  }

  private compositeDecl(t: Struct | Union): void {
    this.text += `${t.kind}${t.name !== '' ? ' ' : ''}${this.names.tag(t)}`;
  }

  private fwdDecl(t: Fwd): void {
    this.text += `${t.union ? 'union' : 'struct'} ${this.names.tag(t)}`;
  }

  private compositeDef(t: Struct | Union, level: number): void {
    // Anonymous types are written out where used; hostile BTF nesting shared ones grows exponentially.
    if (this.text.length > MAX_STATEMENT)
      throw new BtfError(`type ${t.id} makes one C declaration longer than ${MAX_STATEMENT} characters`, -1);
    const isStruct = t.kind === 'struct';
    const packed = isStruct && this.layout.isPacked(t);
    this.compositeDecl(t);
    this.text += ' {';
    let end = 0;
    let inBitfield = false;
    for (const m of t.members) {
      const align = packed ? 1 : this.layout.alignOf(m.type);
      this.padding(end, m.bitOffset, align, inBitfield && m.bitfieldSize !== 0, level + 1);
      this.text += `\n${indent(level + 1)}`;
      this.declaration(m.type, m.name, level + 1);
      if (m.bitfieldSize !== 0) {
        this.text += `: ${m.bitfieldSize}`;
        end = m.bitOffset + m.bitfieldSize;
      } else {
        end = m.bitOffset + this.layout.sizeOf(m.type) * 8;
      }
      inBitfield = m.bitfieldSize !== 0;
      this.text += ';';
    }
    if (isStruct) this.padding(end, t.size * 8, this.layout.alignOf(t.id), false, level + 1);
    // `struct empty {}` stays on one line.
    this.text += t.members.length > 0 || t.size > 0 ? `\n${indent(level)}}` : '}';
    if (packed) this.text += ' __attribute__((packed))';
  }

  /**
   * Unnamed bitfields that fill the bits from `from` to `to`, so the next member lands where BTF
   * puts it. The widest type that reaches an aligned offset is used; a zero-width one forces the
   * alignment when the compiler would not reach it alone (the next member is less aligned, or a
   * bitfield would otherwise continue into the gap).
   */
  private padding(from: number, to: number, nextAlign: number, inBitfield: boolean, level: number): void {
    if (from >= to) return;
    // One line per 8 bytes: hostile sizes would write gigabytes. Real gaps are alignment, at most a page or so.
    if (to - from > MAX_GAP_BITS)
      throw new BtfError(
        `a struct leaves ${(to - from) / 8} bytes between members: no compiler lays out that gap`,
        -1,
      );
    const pad = indent(level);
    let at = from;
    let [type, bits] = PADS[PADS.length - 1]!;
    let aligned = 0;
    for (const [padType, padBits] of PADS) {
      [type, bits] = [padType, padBits];
      aligned = roundUp(at, bits);
      if (aligned <= to) break;
    }
    if (aligned > at && aligned <= to) {
      const reachedAlone = roundUp(at, nextAlign * 8) === aligned;
      const wouldVanish = aligned !== to && to - aligned <= aligned - at;
      if (inBitfield || (aligned === to && !reachedAlone) || wouldVanish)
        this.text += `\n${pad}${type}: ${inBitfield ? aligned - at : 0};`;
      at = aligned;
    }
    while (at < to) {
      const n = Math.min(to - at, bits);
      // A full unit of the chosen type, or the narrowest type that holds the rest.
      const fill = n === bits ? type : PADS.findLast(([, b]) => b >= n)![0];
      this.text += `\n${pad}${fill}: ${n};`;
      at += n;
    }
  }

  private enumDef(t: Enum | Enum64, level: number): void {
    this.text += `enum${t.name !== '' ? ' ' : ''}${this.names.tag(t)}`;
    if (t.values.length === 0) return;
    this.text += ' {';
    const suffix = t.kind === 'enum' ? '' : t.signed ? 'LL' : 'ULL';
    const pad = indent(level + 1);
    for (const v of t.values) this.text += `\n${pad}${this.names.enumerator(v.name)} = ${v.value}${suffix},`;
    // Debian's bpftool (kernel 6.1's libbpf) writes no mode(byte)/mode(word) for enums of 1 or 8 bytes.
    this.text += `\n${indent(level)}}`;
  }

  private typedefDef(t: Typedef, level: number): void {
    const name = this.names.ident(t);
    // Old GCC emits `__gnuc_va_list` as a typedef of void.
    if (t.target === 0 && name === '__gnuc_va_list') {
      this.text += 'typedef __builtin_va_list __gnuc_va_list';
      return;
    }
    this.text += 'typedef ';
    this.declaration(t.target, name, level);
  }

  /**
   * Writes a declaration of `name` with type `id` (`const char *name`, `int (*name)(void *)`,
   * `struct { ... } name[4]`). The chain of pointers, qualifiers, arrays and prototypes down to
   * a named type is stacked, then written from that type outwards.
   */
  private declaration(id: TypeId, name: string, level: number): void {
    const chain: TypeId[] = [];
    for (let at = id; ; ) {
      if (chain.length > MAX_CHAIN) throw loop(id);
      chain.push(at);
      const t = this.btf.typeById(at);
      if (
        t.kind === 'ptr' ||
        t.kind === 'const' ||
        t.kind === 'volatile' ||
        t.kind === 'restrict' ||
        t.kind === 'type_tag'
      )
        at = t.target;
      else if (t.kind === 'func_proto') at = t.returns;
      else if (t.kind === 'array') at = t.element;
      else break;
    }
    this.declarator(chain, name, level);
  }

  /** Writes the stacked `chain` (innermost type on top) around `name`. */
  private declarator(chain: TypeId[], name: string, level: number): void {
    let afterPtr = true;
    while (chain.length > 0) {
      const t = this.btf.typeById(chain.pop()!);
      switch (t.kind) {
        case 'void':
          this.qualifiers(chain);
          this.text += 'void';
          break;
        case 'int':
        case 'float':
          this.qualifiers(chain);
          this.text += t.name;
          break;
        case 'struct':
        case 'union':
          this.qualifiers(chain);
          if (t.name === '') this.compositeDef(t, level);
          else this.compositeDecl(t);
          break;
        case 'enum':
        case 'enum64':
          this.qualifiers(chain);
          if (t.name === '') this.enumDef(t, level);
          else this.text += `enum ${this.names.tag(t)}`;
          break;
        case 'fwd':
          this.qualifiers(chain);
          this.fwdDecl(t);
          break;
        case 'typedef':
          this.qualifiers(chain);
          this.text += this.names.ident(t);
          break;
        case 'ptr':
          this.text += afterPtr ? '*' : ' *';
          break;
        case 'volatile':
        case 'const':
        case 'restrict':
          // After a pointer, a qualifier goes to its right: `char * const p`.
          this.text += ` ${t.kind}`;
          break;
        case 'type_tag':
          this.qualifiers(chain);
          this.text += ` __attribute__((btf_type_tag("${t.name}")))`;
          break;
        case 'array': {
          // Qualifiers on an array (GCC repeats the element's) mean nothing in C.
          dropQualifiers(this.btf, chain);
          if (chain.length === 0) {
            this.name(name, afterPtr);
            this.text += `[${t.count}]`;
            return;
          }
          const multidimensional = this.btf.typeById(chain.at(-1)!).kind === 'array';
          if (name !== '' && !afterPtr) this.text += ' ';
          if (!multidimensional) this.text += '(';
          this.declarator(chain, name, level);
          if (!multidimensional) this.text += ')';
          this.text += `[${t.count}]`;
          return;
        }
        case 'func_proto':
          // GCC marks noreturn function pointers volatile: drop it as for arrays.
          dropQualifiers(this.btf, chain);
          if (chain.length > 0) {
            this.text += ' (';
            this.declarator(chain, name, level);
            this.text += ')';
          } else {
            this.name(name, afterPtr);
          }
          this.params(t.params, level);
          return;
        default:
          // Not a C type (a func or var in a chain): nothing sensible to write.
          return;
      }
      afterPtr = t.kind === 'ptr';
    }
    this.name(name, afterPtr);
  }

  private params(params: readonly { readonly name: string; readonly type: TypeId }[], level: number): void {
    // No parameters, or clang's single void one, is `(void)`: `()` would declare none in particular.
    if (params.length === 0 || (params.length === 1 && params[0]!.type === 0)) {
      this.text += '(void)';
      return;
    }
    this.text += '(';
    for (const [i, p] of params.entries()) {
      if (i > 0) this.text += ', ';
      if (i === params.length - 1 && p.type === 0) {
        this.text += '...';
        break;
      }
      this.declaration(p.type, p.name, level);
    }
    this.text += ')';
  }

  private name(name: string, afterPtr: boolean): void {
    this.text += name !== '' && !afterPtr ? ` ${name}` : name;
  }

  /** Writes the qualifiers on top of `chain` (those on a named type go to its left: `const int`). */
  private qualifiers(chain: TypeId[]): void {
    while (chain.length > 0) {
      const t = this.btf.typeById(chain.at(-1)!);
      if (t.kind !== 'const' && t.kind !== 'volatile' && t.kind !== 'restrict') return;
      this.text += `${t.kind} `;
      chain.pop();
    }
  }
}

function dropQualifiers(btf: Btf, chain: TypeId[]): void {
  while (chain.length > 0) {
    const kind = btf.typeById(chain.at(-1)!).kind;
    if (kind !== 'const' && kind !== 'volatile' && kind !== 'restrict' && kind !== 'type_tag') return;
    chain.pop();
  }
}

/** `__builtin_va_list` is the compiler's own: redefining it breaks compiling with another compiler. */
const isCompilerBuiltin = (t: Typedef): boolean => t.name === '__builtin_va_list';

const loop = (id: TypeId): BtfError =>
  new BtfError(`type ${id} refers to itself through pointers, qualifiers or typedefs`, -1);

/** Which types another type refers to. */
function markReferenced(btf: Btf): Uint8Array {
  const referenced = new Uint8Array(btf.nextId);
  for (let id = 1; id < btf.nextId; id++) {
    const t = btf.typeById(id);
    switch (t.kind) {
      case 'ptr':
      case 'typedef':
      case 'const':
      case 'volatile':
      case 'restrict':
      case 'type_tag':
      case 'decl_tag':
        referenced[t.target] = 1;
        break;
      case 'func':
        referenced[t.proto] = 1;
        break;
      case 'var':
        referenced[t.type] = 1;
        break;
      case 'array':
        referenced[t.index] = 1;
        referenced[t.element] = 1;
        break;
      case 'struct':
      case 'union':
        for (const m of t.members) referenced[m.type] = 1;
        break;
      case 'func_proto':
        for (const p of t.params) referenced[p.type] = 1;
        break;
      case 'datasec':
        for (const v of t.vars) referenced[v.type] = 1;
        break;
      default:
        break;
    }
  }
  return referenced;
}
