/**
 * The three ways CO-RE compares a local type with a target type, following libbpf's rules:
 * field compatibility (a member's type, for field relocations), type compatibility (for type
 * id/exists/size relocations) and the stricter type match (`bpf_core_type_matches`).
 */
import type { Btf } from '../btf.ts';
import { BtfError } from '../error.ts';
import type { Enum, Enum64, Struct, Type, TypeId, Union } from '../types.ts';
import { essentialName } from './names.ts';

/** How deep a chain of pointers, arrays and prototypes may go before we give up, as libbpf does. */
const MAX_DEPTH = 32;

const isEnum = (t: Type): t is Enum | Enum64 => t.kind === 'enum' || t.kind === 'enum64';
const isComposite = (t: Type): t is Struct | Union => t.kind === 'struct' || t.kind === 'union';

/** Same kind, counting `enum` and `enum64` as one: what candidates must share with the local type. */
export const kindsCompatible = (a: Type, b: Type): boolean => a.kind === b.kind || (isEnum(a) && isEnum(b));

function tooDeep(local: TypeId): never {
  throw new BtfError(`type ${local} nests more than ${MAX_DEPTH} levels deep`, -1);
}

/** An empty name matches anything; otherwise the essential names must be equal. */
function namesMatch(a: string, b: string): boolean {
  return a === '' || b === '' || essentialName(a) === essentialName(b);
}

/** Whether a member of type `localId` may be read as a target member of type `targetId`. */
export function fieldsCompatible(local: Btf, localId: TypeId, target: Btf, targetId: TypeId): boolean {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = local.resolve(localId);
    const t = target.resolve(targetId);
    if (isComposite(l) && isComposite(t)) return true;
    if (!kindsCompatible(l, t)) return false;
    switch (l.kind) {
      case 'ptr':
      case 'float':
        return true;
      case 'fwd':
      case 'enum':
      case 'enum64':
        return namesMatch(l.name, t.name);
      case 'int':
        // Old bitfield-style ints (a bit offset inside the int) are never compatible.
        return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
      case 'array':
        localId = l.element;
        targetId = (t as typeof l).element;
        break;
      default:
        return false;
    }
  }
  return tooDeep(localId);
}

/** Whether local type `localId` and target type `targetId` are compatible for type relocations. */
export function typesCompatible(
  local: Btf,
  localId: TypeId,
  target: Btf,
  targetId: TypeId,
  level = MAX_DEPTH,
): boolean {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = local.resolve(localId);
    const t = target.resolve(targetId);
    if (!kindsCompatible(l, t)) return false;
    switch (l.kind) {
      case 'void':
      case 'struct':
      case 'union':
      case 'enum':
      case 'enum64':
      case 'fwd':
        return true;
      case 'int':
        return l.bitOffset === 0 && (t as typeof l).bitOffset === 0;
      case 'ptr':
        localId = l.target;
        targetId = (t as typeof l).target;
        break;
      case 'array':
        localId = l.element;
        targetId = (t as typeof l).element;
        break;
      case 'func_proto': {
        const tp = t as typeof l;
        if (l.params.length !== tp.params.length) return false;
        if (level <= 0) tooDeep(localId);
        for (let i = 0; i < l.params.length; i++)
          if (!typesCompatible(local, l.params[i]!.type, target, tp.params[i]!.type, level - 1)) return false;
        localId = l.returns;
        targetId = tp.returns;
        break;
      }
      default:
        return false;
    }
  }
  return tooDeep(localId);
}

/**
 * `bpf_core_type_matches`: stricter than compatibility. Names (without flavours) must agree at
 * every level, ints must have the same size and signedness, arrays the same length, and every
 * local member or enumerator must have a matching one in the target. Behind a pointer a struct
 * also matches a forward declaration of the same kind.
 */
export function typesMatch(
  local: Btf,
  localId: TypeId,
  target: Btf,
  targetId: TypeId,
  behindPointer = false,
  level = MAX_DEPTH,
): boolean {
  if (level <= 0) tooDeep(localId);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = local.resolve(localId);
    const t = target.resolve(targetId);
    if (!namesMatch(l.name, t.name)) return false;
    switch (l.kind) {
      case 'void':
        return t.kind === 'void';
      case 'fwd':
        if (t.kind === 'fwd') return l.union === t.union;
        return behindPointer && (l.union ? t.kind === 'union' : t.kind === 'struct');
      case 'enum':
      case 'enum64':
        return isEnum(t) && enumsMatch(l, t);
      case 'struct':
      case 'union':
        if (behindPointer) return t.kind === l.kind || (t.kind === 'fwd' && t.union === (l.kind === 'union'));
        return t.kind === l.kind && membersMatch(local, l, target, t, level);
      case 'int':
        return t.kind === 'int' && l.size === t.size && (l.encoding & 1) === (t.encoding & 1);
      case 'ptr':
        if (t.kind !== 'ptr') return false;
        behindPointer = true;
        localId = l.target;
        targetId = t.target;
        break;
      case 'array':
        if (t.kind !== 'array' || l.count !== t.count) return false;
        localId = l.element;
        targetId = t.element;
        break;
      case 'func_proto': {
        if (t.kind !== 'func_proto' || l.params.length !== t.params.length) return false;
        for (let i = 0; i < l.params.length; i++)
          if (!typesMatch(local, l.params[i]!.type, target, t.params[i]!.type, behindPointer, level - 1))
            return false;
        localId = l.returns;
        targetId = t.returns;
        break;
      }
      default:
        return false;
    }
  }
  return tooDeep(localId);
}

/** Same size, and every local enumerator has a namesake (flavours dropped) in the target. */
function enumsMatch(l: Enum | Enum64, t: Enum | Enum64): boolean {
  if (l.size !== t.size || l.values.length > t.values.length) return false;
  return l.values.every((lv) => {
    const name = essentialName(lv.name);
    return t.values.some((tv) => tv.name !== '' && essentialName(tv.name) === name);
  });
}

/** Every local member has a target member of a matching name whose type matches. */
function membersMatch(local: Btf, l: Struct | Union, target: Btf, t: Type, level: number): boolean {
  const targetMembers = (t as Struct | Union).members;
  if (l.members.length > targetMembers.length) return false;
  return l.members.every((lm) =>
    targetMembers.some(
      (tm) => namesMatch(lm.name, tm.name) && typesMatch(local, lm.type, target, tm.type, false, level - 1),
    ),
  );
}
