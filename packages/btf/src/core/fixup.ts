/**
 * The CO-RE engine: for one relocation record (local type, access string, kind) and the target
 * BTF (vmlinux, then modules), the value the instruction holds now and the value it must hold
 * on the target, or that it must be poisoned. Pure computation over BTF, following libbpf's
 * relocation rules; patching instructions is the object loader's job.
 */
import { CoreReloKind } from '@ebpf/uapi';
import type { Btf } from '../btf.ts';
import { BtfError } from '../error.ts';
import type { Struct, Type, TypeId, Union } from '../types.ts';
import {
  AccessError,
  type AccessSpec,
  enumSpec,
  fieldSpec,
  matchFieldSpec,
  parseAccessString,
  typeSpec,
} from './access.ts';
import { type Candidate, candidatesIn, findCandidates } from './candidates.ts';
import { typesCompatible, typesMatch } from './compat.ts';
import { CoreError } from './error.ts';
import { essentialName } from './names.ts';

/** What a relocation record says, as `.BTF.ext` holds it (`bpf_core_relo` without its insn offset). */
export interface CoreRelocationRecord {
  /** The root type id in the local (object's) BTF. */
  readonly typeId: TypeId;
  /** `0:1:2`: an index into the root, then members and array elements (`0` for type relocations). */
  readonly accessString: string;
  /** A `CoreReloKind`. */
  readonly kind: number;
}

/**
 * The outcome of one relocation. Values are unsigned 64-bit, as the instruction's immediate
 * (or offset) takes them; an instruction holds the low bits its field has room for.
 */
export interface CoreFixup {
  readonly kind: CoreReloKind;
  /** The value computed on the local BTF: what the compiler put in the instruction. */
  readonly local: bigint;
  /** The value for the target. Meaningless when `poison` is set. */
  readonly target: bigint;
  /**
   * No target satisfies the relocation (no candidate has the field, the enumerator...): the
   * instruction must be replaced by an invalid call so that the verifier rejects it if reached.
   */
  readonly poison: boolean;
  /**
   * Whether the instruction must hold `local` before it is patched. False where the compiler
   * and the engine may legitimately disagree (bitfield offsets, type ids that linking moves).
   */
  readonly validate: boolean;
  /** For a field byte offset: the field's size locally and in the target (0 otherwise). */
  readonly localSize: number;
  readonly targetSize: number;
  /**
   * The field changed size in a way a load or store cannot follow (only pointers and unsigned
   * integers may change width): a load or store using this offset must be poisoned.
   */
  readonly badSizeChange: boolean;
  /** The target type that matched (a candidate), or undefined when none did. */
  readonly candidate: Candidate | undefined;
}

const K = CoreReloKind;
const isFieldKind = (kind: number): boolean => kind <= K.FieldRshiftU64;
const isEnumKind = (kind: number): boolean => kind === K.EnumvalExists || kind === K.EnumvalValue;
const isTypeKind = (kind: number): boolean =>
  (kind >= K.TypeIdLocal && kind <= K.TypeSize) || kind === K.TypeMatches;

/** A value of one side; `size` and `type` describe the field for byte offset relocations. */
interface Side {
  readonly value: bigint;
  readonly validate: boolean;
  readonly size: number;
  readonly type: Type | undefined;
}
const POISON = 'poison';

const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));
const plain = (value: number | bigint, validate = true): Side => ({
  value: u64(value),
  validate,
  size: 0,
  type: undefined,
});

/**
 * Computes CO-RE fixups for the relocations of one object against one set of targets. Keeps
 * each local type's candidates between relocations, narrowed to those that matched, as libbpf
 * does for an object: build one resolver per object and load.
 */
export class CoreResolver {
  private readonly candidates = new Map<TypeId, Candidate[]>();
  private modules: readonly Btf[] | undefined;

  /**
   * `targets`: the kernel's BTF first, then module BTFs (searched only when it has no candidate).
   * `options.modules` supplies more module BTFs, asked for once, the first time a local type has
   * no candidate in `targets`: loading every module's BTF is left until a relocation needs it.
   */
  constructor(
    readonly local: Btf,
    readonly targets: readonly Btf[],
    private readonly options: { readonly modules?: () => readonly Btf[] } = {},
  ) {}

  /** The fixup for `relocation`; a {@link CoreError} when it cannot be computed at all. */
  fixup(relocation: CoreRelocationRecord): CoreFixup {
    const { typeId, accessString } = relocation;
    try {
      return this.compute(relocation);
    } catch (e) {
      if (e instanceof AccessError || e instanceof BtfError)
        throw new CoreError(e.message, typeId, accessString, { cause: e });
      throw e;
    }
  }

  private compute({ typeId, accessString, kind }: CoreRelocationRecord): CoreFixup {
    const localSpec = this.localSpec(typeId, accessString, kind);
    const k = kind as CoreReloKind;
    if (kind === K.TypeIdLocal) {
      const id = u64(typeId);
      return {
        ...NO_SIZES,
        kind: k,
        local: id,
        target: id,
        poison: false,
        validate: false,
        candidate: undefined,
      };
    }
    const localType = this.local.typeById(typeId);
    if (localType.name === '')
      throw new CoreError(
        `the root type is anonymous (${this.local.nameOf(typeId)}); CO-RE finds targets by name, so give it one`,
        typeId,
        accessString,
      );
    // A spec always has a value: only a missing target poisons.
    const localSide = sideOf(k, localSpec) as Side;
    let chosen: { fixup: CoreFixup; spec: AccessSpec } | undefined;
    const all = this.candidates.get(typeId) ?? this.findCandidates(localType);
    const matched: Candidate[] = [];
    for (const candidate of all) {
      const spec = matchSpec(k, localSpec, candidate);
      if (spec === undefined) continue;
      const fixup = combine(k, localSide, sideOf(k, spec), candidate);
      if (chosen === undefined) chosen = { fixup, spec };
      else if (spec.bitOffset !== chosen.spec.bitOffset)
        throw this.ambiguity(
          typeId,
          accessString,
          `field offsets ${chosen.spec.bitOffset / 8} and ${spec.bitOffset / 8}`,
          chosen.fixup,
          candidate,
        );
      else if (fixup.poison !== chosen.fixup.poison || fixup.target !== chosen.fixup.target)
        throw this.ambiguity(
          typeId,
          accessString,
          `values ${chosen.fixup.target} and ${fixup.target}`,
          chosen.fixup,
          candidate,
        );
      matched.push(candidate);
    }
    this.candidates.set(typeId, matched.length > 0 ? matched : all);
    return chosen?.fixup ?? combine(k, localSide, sideOf(k, undefined), undefined);
  }

  private findCandidates(local: Type): Candidate[] {
    const found = findCandidates(local, this.targets);
    if (found.length > 0 || this.options.modules === undefined) return found;
    this.modules ??= this.options.modules();
    return candidatesIn(local, this.modules);
  }

  private localSpec(typeId: TypeId, accessString: string, kind: number): AccessSpec {
    if (isTypeKind(kind)) {
      if (accessString !== '0') throw new AccessError('a type relocation takes the access string "0"');
      return typeSpec(this.local, typeId);
    }
    const raw = parseAccessString(accessString);
    if (isFieldKind(kind)) return fieldSpec(this.local, typeId, raw);
    if (isEnumKind(kind)) return enumSpec(this.local, typeId, raw);
    throw new AccessError(`relocation kind ${kind} is unknown (kinds 0 to ${K.TypeMatches} exist)`);
  }

  private ambiguity(
    typeId: TypeId,
    accessString: string,
    what: string,
    first: CoreFixup,
    second: Candidate,
  ): CoreError {
    const name = (c: Candidate | undefined) => (c ? `${c.btf.nameOf(c.id)} (id ${c.id})` : '?');
    return new CoreError(
      `candidates ${name(first.candidate)} and ${name(second)} give different ${what}; libbpf refuses this too: relocate against BTF with one of them, or first read (with a flavour) a field only one of them has`,
      typeId,
      accessString,
    );
  }
}

const NO_SIZES = { localSize: 0, targetSize: 0, badSizeChange: false } as const;

/** The spec of the local relocation in `candidate`, or undefined when it does not match. */
function matchSpec(kind: CoreReloKind, local: AccessSpec, { btf, id }: Candidate): AccessSpec | undefined {
  if (isTypeKind(kind)) {
    const ok =
      kind === K.TypeMatches
        ? typesMatch(local.btf, local.rootId, btf, id)
        : typesCompatible(local.btf, local.rootId, btf, id);
    return ok ? typeSpec(btf, id) : undefined;
  }
  if (isFieldKind(kind)) return matchFieldSpec(local, btf, id);
  const t = btf.resolve(id);
  if (t.kind !== 'enum' && t.kind !== 'enum64') return undefined;
  const name = essentialName(local.accessors[0]!.name!);
  const index = t.values.findIndex((v) => essentialName(v.name) === name);
  if (index < 0) return undefined;
  return { btf, rootId: id, accessors: [{ typeId: t.id, index, name: t.values[index]!.name }], bitOffset: 0 };
}

/** The fixup from both sides: poison when the target has no value, size checks for loads. */
function combine(
  kind: CoreReloKind,
  local: Side,
  target: Side | typeof POISON,
  candidate: Candidate | undefined,
): CoreFixup {
  const poison = target === POISON;
  // One object shape for every fixup: spreads here cost more than the relocation itself.
  return {
    kind,
    local: local.value,
    target: poison ? 0n : target.value,
    poison,
    validate: local.validate,
    localSize: poison ? 0 : local.size,
    targetSize: poison ? 0 : target.size,
    badSizeChange: !poison && local.size !== target.size && !widthMayChange(local.type, target.type),
    candidate,
  };
}

/** Loads may change width for pointers and for unsigned integers (zero extension keeps the value). */
function widthMayChange(local: Type | undefined, target: Type | undefined): boolean {
  if (local?.kind === 'ptr' && target?.kind === 'ptr') return true;
  return (
    local?.kind === 'int' &&
    target?.kind === 'int' &&
    (local.encoding & 1) === 0 &&
    (target.encoding & 1) === 0
  );
}

/** The value of relocation `kind` on one side; `spec` undefined means the target has no match. */
function sideOf(kind: CoreReloKind, spec: AccessSpec | undefined): Side | typeof POISON {
  switch (kind) {
    case K.FieldExists:
    case K.EnumvalExists:
      return plain(spec ? 1 : 0);
    case K.TypeIdTarget:
      return plain(spec ? spec.rootId : 0, false);
    case K.TypeExists:
    case K.TypeMatches:
      return plain(spec ? 1 : 0);
    case K.TypeSize:
      return plain(spec ? spec.btf.sizeof(spec.rootId) : 0);
    case K.EnumvalValue:
      return spec ? plain(enumValue(spec)) : POISON;
    default:
      return spec ? fieldSide(kind, spec) : POISON;
  }
}

/** Enumerator values as libbpf reads them: a 32-bit enum's value is sign-extended. */
function enumValue({ btf, accessors: [acc] }: AccessSpec): bigint {
  const t = btf.typeById(acc!.typeId);
  if (t.kind === 'enum') return u64(t.values[acc!.index]!.value | 0);
  if (t.kind === 'enum64') return u64(t.values[acc!.index]!.value);
  throw new AccessError(`${btf.nameOf(t.id)} is not an enum`);
}

/** Field offset, size, signedness and bitfield shifts of the field `spec` reaches. */
function fieldSide(kind: CoreReloKind, spec: AccessSpec): Side {
  const { btf, bitOffset } = spec;
  const acc = spec.accessors.at(-1)!;
  if (acc.name === undefined) {
    // An array element: only its offset and size make sense.
    const element = btf.typeById(acc.typeId);
    const size = btf.sizeof(acc.typeId);
    if (kind === K.FieldByteOffset)
      return { value: u64(Math.floor(bitOffset / 8)), validate: true, size, type: element };
    if (kind === K.FieldByteSize) return plain(size);
    throw new AccessError(`relocation kind ${kind} cannot be applied to an array element`);
  }
  const member = (btf.typeById(acc.typeId) as Struct | Union).members[acc.index]!;
  const type = btf.resolve(member.type);
  let bits = member.bitfieldSize;
  const bitfield = bits > 0;
  let byteSize: number;
  let byteOffset: number;
  if (bitfield) {
    // The smallest aligned load, starting at the storage unit's size, that covers every bit.
    if ((type.kind !== 'int' && type.kind !== 'enum' && type.kind !== 'enum64') || type.size === 0)
      throw new AccessError(
        `a bitfield of ${btf.nameOf(type.id)} (only integers and enums can be bitfields)`,
      );
    byteSize = type.size;
    byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    while (bitOffset + bits - byteOffset * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new AccessError('the bitfield cannot be read with one 64-bit load');
      byteSize *= 2;
      byteOffset = Math.floor(bitOffset / 8 / byteSize) * byteSize;
    }
  } else {
    byteSize = btf.sizeof(type.id);
    byteOffset = Math.floor(bitOffset / 8);
    bits = byteSize * 8;
  }
  switch (kind) {
    case K.FieldByteOffset:
      return bitfield
        ? plain(byteOffset, false)
        : { value: u64(byteOffset), validate: true, size: byteSize, type };
    case K.FieldByteSize:
      return plain(byteSize, !bitfield);
    case K.FieldSigned: {
      const signed =
        ((type.kind === 'enum' || type.kind === 'enum64') && type.signed) ||
        (type.kind === 'int' && (type.encoding & 1) !== 0);
      return plain(signed ? 1 : 0);
    }
    case K.FieldLshiftU64:
      // The shift that brings the field's top bit to bit 63 of the loaded value.
      return plain(
        btf.littleEndian
          ? 64 - (bitOffset + bits - byteOffset * 8)
          : (8 - byteSize) * 8 + (bitOffset - byteOffset * 8),
        !bitfield,
      );
    case K.FieldRshiftU64:
      return plain(64 - bits);
    default:
      throw new AccessError(`relocation kind ${kind} is not a field relocation`);
  }
}

/** One relocation against `targets` without keeping candidates: see {@link CoreResolver}. */
export function coreFixup(local: Btf, relocation: CoreRelocationRecord, targets: readonly Btf[]): CoreFixup {
  return new CoreResolver(local, targets).fixup(relocation);
}
