/**
 * Access specs: what a CO-RE relocation's access string (`0:1:2`) reaches. Parsed once on the
 * local BTF (what the compiler saw), then matched member by member, by name, on a candidate
 * target type. Follows libbpf's spec rules: the first index steps through an array of the root
 * type, named members are matched by name (anonymous ones are looked through), array indices
 * must be in bounds unless the array is a flexible last member.
 */
import type { Btf } from '../btf.ts';
import type { ArrayType, Struct, Type, TypeId, Union } from '../types.ts';
import { fieldsCompatible } from './compat.ts';

/** One step that the relocation names: a member (with its name) or an array element. */
export interface Accessor {
  /** The struct/union holding the member, or the array's element type (both resolved). */
  readonly typeId: TypeId;
  /** Member index, or array index. */
  readonly index: number;
  /** The member's name; undefined for an array element. For enum relocations, the enumerator's. */
  readonly name: string | undefined;
}

/** Where a relocation lands in one BTF. */
export interface AccessSpec {
  readonly btf: Btf;
  /** The relocation's root type id (unresolved, as recorded). */
  readonly rootId: TypeId;
  /** The named members and array elements along the way (anonymous members left out). */
  readonly accessors: readonly Accessor[];
  /** Bits from the start of the root to the field. */
  readonly bitOffset: number;
}

/** libbpf's limit on the number of steps in one access string. */
export const MAX_SPEC_LENGTH = 64;

const isComposite = (t: Type): t is Struct | Union => t.kind === 'struct' || t.kind === 'union';

/** A flexible array member: zero length and the last member of the struct holding it. */
function isFlexible(btf: Btf, previous: Accessor | undefined, array: ArrayType): boolean {
  if (previous?.name === undefined || array.count > 0) return false;
  const holder = btf.typeById(previous.typeId) as Struct | Union;
  return previous.index === holder.members.length - 1;
}

/** Thrown for an access string that does not fit its local type: the message says why. */
export class AccessError extends Error {}

/** Parses `0:1:2` into numbers (by hand: a regular expression and split cost more than the rest). */
export function parseAccessString(access: string): number[] {
  const raw: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= access.length; i++) {
    const c = i < access.length ? access.charCodeAt(i) : COLON;
    if (c >= ZERO && c <= ZERO + 9 && digits < 10) {
      n = n * 10 + (c - ZERO);
      digits++;
    } else if (c === COLON && digits > 0) {
      raw.push(n);
      n = 0;
      digits = 0;
    } else throw new AccessError('the access string is not of the form 0:1:2');
  }
  if (raw.length > MAX_SPEC_LENGTH) throw new AccessError(`more than ${MAX_SPEC_LENGTH} steps`);
  return raw;
}

const ZERO = 0x30;
const COLON = 0x3a;

/** The local spec of a field relocation: every step checked against the local BTF. */
export function fieldSpec(btf: Btf, rootId: TypeId, raw: readonly number[]): AccessSpec {
  let t = btf.resolve(rootId);
  const accessors: Accessor[] = [{ typeId: t.id, index: raw[0]!, name: undefined }];
  let bitOffset = raw[0]! * btf.sizeof(t.id) * 8;
  for (let i = 1; i < raw.length; i++) {
    const index = raw[i]!;
    if (isComposite(t)) {
      const m = t.members[index];
      if (m === undefined) throw new AccessError(`${btf.nameOf(t.id)} has no member #${index}`);
      bitOffset += m.bitOffset;
      if (m.name !== '') accessors.push({ typeId: t.id, index, name: m.name });
      t = btf.resolve(m.type);
    } else if (t.kind === 'array') {
      const element = btf.resolve(t.element);
      if (!isFlexible(btf, accessors.at(-1), t) && index >= t.count)
        throw new AccessError(`index ${index} is past the end of ${btf.nameOf(t.id)}`);
      accessors.push({ typeId: element.id, index, name: undefined });
      bitOffset += index * btf.sizeof(element.id) * 8;
      t = element;
    } else {
      throw new AccessError(`step ${i} reaches ${btf.nameOf(t.id)}, which has neither members nor elements`);
    }
  }
  return { btf, rootId, accessors, bitOffset };
}

/** The local spec of an enum value relocation: `raw` is the one enumerator index. */
export function enumSpec(btf: Btf, rootId: TypeId, raw: readonly number[]): AccessSpec {
  const t = btf.resolve(rootId);
  if (t.kind !== 'enum' && t.kind !== 'enum64') throw new AccessError(`${btf.nameOf(rootId)} is not an enum`);
  const index = raw[0]!;
  const value = t.values[index];
  if (raw.length > 1 || value === undefined)
    throw new AccessError(`${btf.nameOf(rootId)} has no enumerator #${raw.join(':')}`);
  return { btf, rootId, accessors: [{ typeId: t.id, index, name: value.name }], bitOffset: 0 };
}

/** The spec of a type relocation: just its root. */
export const typeSpec = (btf: Btf, rootId: TypeId): AccessSpec => ({
  btf,
  rootId,
  accessors: [],
  bitOffset: 0,
});

/** The same field in candidate `rootId` of `target`, or undefined when the candidate lacks it. */
export function matchFieldSpec(local: AccessSpec, target: Btf, rootId: TypeId): AccessSpec | undefined {
  const accessors: Accessor[] = [];
  let bitOffset = 0;
  let id = rootId;
  for (let i = 0; i < local.accessors.length; i++) {
    const want = local.accessors[i]!;
    let t = target.resolve(id);
    if (want.name !== undefined) {
      const found = findMember(local, want, target, t, 0);
      if (found === undefined) return undefined;
      accessors.push({ typeId: found.holder, index: found.index, name: want.name });
      bitOffset += found.bitOffset;
      id = found.type;
      continue;
    }
    // The first step indexes the root itself; later ones need an array here.
    if (i > 0) {
      if (t.kind !== 'array') return undefined;
      if (!isFlexible(target, accessors.at(-1), t) && want.index >= t.count) return undefined;
      t = target.resolve(t.element);
    }
    accessors.push({ typeId: t.id, index: want.index, name: undefined });
    bitOffset += want.index * target.sizeof(t.id) * 8;
    id = t.id;
  }
  return { btf: target, rootId, accessors, bitOffset };
}

interface FoundMember {
  /** The (possibly anonymous, nested) struct/union holding the member. */
  readonly holder: TypeId;
  readonly index: number;
  readonly type: TypeId;
  /** Bits from the start of the composite searched to the member. */
  readonly bitOffset: number;
}

/** Finds the member named like `want` in `t`, looking through anonymous members, if compatible. */
function findMember(
  local: AccessSpec,
  want: Accessor,
  target: Btf,
  t: Type,
  depth: number,
): FoundMember | undefined {
  if (!isComposite(t) || depth > MAX_SPEC_LENGTH) return undefined;
  const localMember = (local.btf.typeById(want.typeId) as Struct | Union).members[want.index]!;
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i]!;
    if (m.name === '') {
      const inner = findMember(local, want, target, target.resolve(m.type), depth + 1);
      if (inner) return { ...inner, bitOffset: inner.bitOffset + m.bitOffset };
    } else if (m.name === want.name) {
      return fieldsCompatible(local.btf, localMember.type, target, m.type)
        ? { holder: t.id, index: i, type: m.type, bitOffset: m.bitOffset }
        : undefined;
    }
  }
  return undefined;
}
