/**
 * Code sections kept as their bytes with relocations applied in place: map and global-data
 * `lddw`s get their pseudo source and a cleared immediate (a map value's offset in the second
 * slot) and name their map beside the bytes, kfunc calls name the function, calls and function
 * addresses point at a (section, slot) the linker resolves. The code is checked as `decode`
 * would check it, but not decoded: a program's instructions are made only when asked for. A
 * relocation that cannot be resolved is a problem of its instruction, so only programs that use
 * it are affected.
 */
import { checkBytecode, isLddw, PseudoCall, PseudoSrc } from '@ebpf/asm';
import { InsnClass, JmpOp } from '@ebpf/uapi';
import { CodeView, SLOT } from './code-view.ts';
import { STB_LOCAL, STT_FUNC, STT_SECTION } from './elf/constants.ts';
import type { ElfRelocation, ElfSection } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import type { ObjectFile } from './object-file.ts';
import type { ExternSpec } from './spec.ts';

export { SLOT } from './code-view.ts';

/** `call` (helper, BPF-to-BPF or kfunc by its src). */
export const CALL = InsnClass.Jmp | JmpOp.Call;

/** Where a call or function address leads: a slot of a code section. */
export interface CodeTarget {
  readonly section: number;
  readonly slot: number;
}

/**
 * What an instruction names that its bytes cannot hold: the map (or global data section) an
 * `lddw` loads (its value offset is in the bytes), or the kfunc a call calls.
 */
export type CodeReference = { readonly map: string } | { readonly kfunc: string };

/** A function (STT_FUNC symbol) of a code section. */
export interface CodeFunction {
  readonly name: string;
  readonly code: CodeSection;
  /** Index of its first instruction in the section's instructions. */
  readonly first: number;
  /** Index after its last instruction. */
  readonly end: number;
  readonly global: boolean;
}

export interface CodeSection {
  readonly section: ElfSection;
  /** The section's code, relocated in place, in the object's byte order. */
  readonly view: CodeView;
  /** The 8-byte slot each instruction starts at. */
  readonly slots: readonly number[];
  readonly functions: readonly CodeFunction[];
  /** By instruction index (arrays: the linker reads every index): where a call or function address leads. */
  readonly targets: readonly (CodeTarget | undefined)[];
  /** By instruction index: the map or kfunc it names. */
  readonly references: readonly (CodeReference | undefined)[];
  /** Instruction index → the extern variable it loads. */
  readonly externs: ReadonlyMap<number, string>;
  /** Instruction index → why it cannot be relocated. */
  readonly problems: ReadonlyMap<number, string>;
  /** Slot → instruction index (-1 inside an `lddw`). */
  indexOfSlot(slot: number): number;
}

/** Reads one code section of `object`; `externs` say how extern symbols resolve. */
export function readCode(
  object: ObjectFile,
  section: ElfSection,
  externs: ReadonlyMap<string, ExternSpec>,
): CodeSection {
  const code = new CodeView(checkedCode(object, section).slice(), object.elf.littleEndian);
  const slotOf: number[] = [];
  const bySlot = new Int32Array(code.slots).fill(-1);
  for (let slot = 0; slot < code.slots; slot += code.span(slot)) {
    bySlot[slot] = slotOf.length;
    slotOf.push(slot);
  }
  const targets = new Array<CodeTarget | undefined>(slotOf.length);
  const references = new Array<CodeReference | undefined>(slotOf.length);
  const externRefs = new Map<number, string>();
  const problems = new Map<number, string>();
  const relocated = new Uint8Array(slotOf.length);

  for (const rel of object.relocations(section)) {
    const index = rel.offset % SLOT === 0 ? (bySlot[rel.offset / SLOT] ?? -1) : -1;
    if (index < 0)
      throw new ObjectError(`relocation at offset ${rel.offset} does not point at an instruction`, {
        section: section.name,
      });
    relocated[index] = 1;
    const slot = slotOf[index] as number;
    const outcome = relocate(object, rel, code, slot, externs);
    if (typeof outcome === 'string') {
      problems.set(index, outcome);
      continue;
    }
    if (outcome.src !== undefined) code.setSrc(slot, outcome.src);
    const reference = outcome.reference;
    if (reference !== undefined) {
      references[index] = reference;
      if ('map' in reference) code.setImm64(slot, 0, outcome.offset ?? 0);
      else code.setImm(slot, 0);
    }
    if (outcome.target) targets[index] = outcome.target;
    if (outcome.extern !== undefined) externRefs.set(index, outcome.extern);
  }
  // Calls to a static function of the same section need no relocation: imm is relative.
  for (let index = 0; index < slotOf.length; index++) {
    if (relocated[index] === 1) continue;
    const slot = slotOf[index] as number;
    const op = code.op(slot);
    if (op === CALL && code.src(slot) === PseudoCall.Call)
      targets[index] = { section: section.index, slot: slot + code.imm(slot) + 1 };
    else if (isLddw(op) && code.src(slot) === PseudoSrc.Func)
      problems.set(index, 'takes a function address but has no relocation saying which function');
  }

  const functions: CodeFunction[] = [];
  const read: CodeSection = {
    section,
    view: code,
    slots: slotOf,
    functions,
    targets,
    references,
    externs: externRefs,
    problems,
    indexOfSlot: (at) => bySlot[at] ?? -1,
  };
  // Functions point back at their section, so they are made once it exists.
  functions.push(...functionsOf(object, read, bySlot, slotOf.length));
  return read;
}

/** The section's bytes, checked to be valid eBPF code the way `decode` checks it. */
function checkedCode(object: ObjectFile, section: ElfSection): Uint8Array {
  const bytes = object.elf.data(section);
  try {
    checkBytecode(bytes, { byteOrder: object.elf.littleEndian ? 'little' : 'big' });
    return bytes;
  } catch (cause) {
    const at = (cause as { offset?: number }).offset;
    throw new ObjectError(
      `holds no valid eBPF code: ${(cause as Error).message}`,
      { section: section.name, instruction: at === undefined ? undefined : at / SLOT },
      { cause },
    );
  }
}

function functionsOf(
  object: ObjectFile,
  code: CodeSection,
  bySlot: Int32Array,
  count: number,
): CodeFunction[] {
  const { section } = code;
  const out: CodeFunction[] = [];
  for (const symbol of object.symbols) {
    if (symbol.sectionIndex !== section.index || symbol.type !== STT_FUNC) continue;
    const start = Number(symbol.value);
    const size = Number(symbol.size);
    if (size === 0) continue; // a label-like symbol, no code of its own
    if (start % SLOT !== 0 || size % SLOT !== 0 || start + size > section.size) {
      throw new ObjectError(
        `function ${symbol.name} (${size} bytes at ${start}) is not whole instructions inside the section`,
        { section: section.name },
      );
    }
    const first = bySlot[start / SLOT] ?? -1;
    const endSlot = (start + size) / SLOT;
    const end = endSlot === bySlot.length ? count : (bySlot[endSlot] ?? -1);
    if (first < 0 || end < 0)
      throw new ObjectError(`function ${symbol.name} starts or ends inside an lddw`, {
        section: section.name,
      });
    out.push({ name: symbol.name, code, first, end, global: symbol.binding !== STB_LOCAL });
  }
  return out.sort((a, b) => a.first - b.first);
}

interface Relocated {
  /** The pseudo source the instruction gets. */
  src?: number;
  reference?: CodeReference;
  /** A map value's offset, for the `lddw`'s second slot. */
  offset?: number;
  target?: CodeTarget;
  extern?: string;
}

/** How the instruction at `slot` of `code` is relocated, or why it cannot be. */
function relocate(
  object: ObjectFile,
  rel: ElfRelocation,
  code: CodeView,
  slot: number,
  externs: ReadonlyMap<string, ExternSpec>,
): Relocated | string {
  const symbol = object.symbols[rel.symbol];
  if (symbol === undefined || rel.symbol === 0)
    return `relocation against symbol #${rel.symbol}, which does not exist`;
  const op = code.op(slot);
  const isCall = op === CALL;
  if (!isCall && !isLddw(op))
    return `relocation against ${symbol.name || 'a section'} on an instruction that is neither call nor lddw`;
  const target = object.sectionOf(symbol);
  if (target === undefined) {
    const extern = externs.get(symbol.name);
    if (symbol.name === '' || extern === undefined)
      return `refers to '${symbol.name}', which is not defined here nor an extern of .kconfig or .ksyms (declare it __kconfig or __ksym)`;
    if (isCall) {
      if (extern.kind !== 'ksym') return `calls '${symbol.name}', a .kconfig variable`;
      return { src: PseudoCall.KfuncCall, reference: { kfunc: symbol.name } };
    }
    if (extern.kind === 'kconfig') {
      return {
        src: PseudoSrc.MapValue,
        reference: { map: '.kconfig' },
        offset: extern.offset ?? 0,
        extern: symbol.name,
      };
    }
    return { extern: symbol.name };
  }
  const lo = code.imm(slot);
  const value = Number(symbol.value);
  switch (object.role(target)) {
    case 'code':
      if (isCall) {
        if (code.src(slot) !== PseudoCall.Call)
          return 'relocation against code on a call that is not a BPF-to-BPF call';
        return { target: { section: target.index, slot: value / SLOT + lo + 1 } };
      }
      if ((value + lo) % SLOT !== 0)
        return `function address ${value + lo} in ${target.name} is not an instruction`;
      return { src: PseudoSrc.Func, target: { section: target.index, slot: (value + lo) / SLOT } };
    case 'btf_maps':
    case 'legacy_maps': {
      const name =
        symbol.name !== '' && symbol.type !== STT_SECTION ? symbol.name : object.objectAt(target, lo)?.name;
      if (isCall || name === undefined)
        return `refers to offset ${value + lo} of ${target.name}, where no map is defined`;
      return { src: PseudoSrc.MapFd, reference: { map: name } };
    }
    case 'data':
      if (isCall) return `calls into the data section ${target.name}`;
      return {
        src: PseudoSrc.MapValue,
        reference: { map: target.name },
        offset: value + lo,
      };
    default:
      return `refers to section ${target.name}, which holds no code, map or global data`;
  }
}
