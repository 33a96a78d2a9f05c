/**
 * Links an entry function with every function it calls or takes the address of, the way libbpf
 * does so the result equals what libbpf submits: each callee is appended once, at the end, the
 * first time a call to it is met, and processed right away (depth first); call and
 * function-address immediates then become slot deltas. `.BTF.ext` records follow their
 * instructions, main function first and callees in the order they were appended.
 */
import type { Instruction } from '@ebpf/asm';
import { pseudoImm } from '@ebpf/asm';
import { CALL, type CodeFunction, type CodeTarget, SLOT } from './code.ts';
import type { ElfSection } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import type { CoreRelocation, ExternReference, FuncInfo, LineInfo } from './spec.ts';

/** The `.BTF.ext` records of one section, offsets in bytes (as `BtfExt.section()` returns them). */
export interface ExtRecords {
  readonly funcInfo: readonly { readonly insnOff: number; readonly typeId: number }[];
  readonly lineInfo: readonly {
    readonly insnOff: number;
    readonly fileNameOff: number;
    readonly lineOff: number;
    readonly line: number;
    readonly column: number;
  }[];
  readonly coreRelo: readonly {
    readonly insnOff: number;
    readonly typeId: number;
    readonly accessString: string | undefined;
    readonly kind: number;
  }[];
}

export interface LinkedProgram {
  readonly instructions: readonly Instruction[];
  readonly funcInfo: readonly FuncInfo[];
  readonly lineInfo: readonly LineInfo[];
  readonly coreRelocations: readonly CoreRelocation[];
  readonly externReferences: readonly ExternReference[];
  /** The first problem met in any linked function. */
  readonly problem: ObjectError | undefined;
}

export interface LinkContext {
  /** The function starting at `target`, or why there is none. */
  functionAt(target: CodeTarget): CodeFunction | string;
  /** The `.BTF.ext` records of a code section, if the object has any. */
  records(section: ElfSection): ExtRecords | undefined;
  readonly objectName: string;
}

interface Placement {
  readonly index: number;
  readonly slot: number;
}

export function linkProgram(entry: CodeFunction, context: LinkContext): LinkedProgram {
  const out: Instruction[] = [];
  const placed = new Map<CodeFunction, Placement>();
  const funcInfo: FuncInfo[] = [];
  const lineInfo: LineInfo[] = [];
  const coreRelocations: CoreRelocation[] = [];
  const externReferences: ExternReference[] = [];
  let slots = 0;
  let problem: ObjectError | undefined;

  const fail = (fn: CodeFunction, index: number, reason: string): void => {
    problem ??= new ObjectError(reason, {
      object: context.objectName,
      section: fn.code.section.name,
      program: entry.name,
      instruction: fn.code.slots[index],
    });
  };

  const append = (fn: CodeFunction): Placement => {
    const at: Placement = { index: out.length, slot: slots };
    placed.set(fn, at);
    const { code } = fn;
    for (let i = fn.first; i < fn.end; i++) out.push(code.instructions[i] as Instruction);
    slots += slotSpan(code, fn);
    // Most sections have neither externs nor problems: no lookup per instruction then.
    if (code.externs.size > 0 || code.problems.size > 0)
      for (let i = fn.first; i < fn.end; i++) {
        const extern = code.externs.get(i);
        if (extern !== undefined) externReferences.push({ insn: at.index + i - fn.first, name: extern });
        const reason = code.problems.get(i);
        if (reason !== undefined) fail(fn, i, reason);
      }
    const records = context.records(code.section);
    if (records !== undefined) {
      const start = (code.slots[fn.first] as number) * SLOT;
      const end = start + slotSpan(code, fn) * SLOT;
      const local = (insnOff: number): number | undefined => {
        const index = insnOff % SLOT === 0 ? code.indexOfSlot(insnOff / SLOT) : -1;
        return index >= fn.first && index < fn.end ? at.index + index - fn.first : undefined;
      };
      for (const r of within(records.funcInfo, start, end)) {
        const insn = local(r.insnOff);
        if (insn !== undefined) funcInfo.push({ insn, typeId: r.typeId });
      }
      for (const r of within(records.lineInfo, start, end)) {
        const insn = local(r.insnOff);
        if (insn !== undefined)
          lineInfo.push({
            insn,
            fileNameOff: r.fileNameOff,
            lineOff: r.lineOff,
            line: r.line,
            column: r.column,
          });
      }
      for (const r of within(records.coreRelo, start, end)) {
        const insn = local(r.insnOff);
        if (insn !== undefined)
          coreRelocations.push({ insn, typeId: r.typeId, accessString: r.accessString ?? '', kind: r.kind });
      }
    }
    return at;
  };

  const process = (fn: CodeFunction): void => {
    const base = placed.get(fn) as Placement;
    const { code } = fn;
    for (let i = fn.first; i < fn.end; i++) {
      const target = code.targets.get(i);
      if (target === undefined) continue;
      const callee = context.functionAt(target);
      if (typeof callee === 'string') {
        fail(fn, i, callee);
        continue;
      }
      let to = placed.get(callee);
      if (to === undefined) {
        to = append(callee);
        process(callee);
      }
      const index = base.index + i - fn.first;
      const slot = base.slot + (code.slots[i] as number) - (code.slots[fn.first] as number);
      const delta = to.slot - slot - 1;
      const insn = out[index] as Instruction;
      out[index] = { ...insn, imm: insn.op === CALL ? delta : pseudoImm(delta, 0) };
    }
  };

  append(entry);
  process(entry);
  return { instructions: out, funcInfo, lineInfo, coreRelocations, externReferences, problem };
}

/** The slots `fn`'s instructions take (an `lddw` takes two). */
function slotSpan(code: CodeFunction['code'], fn: CodeFunction): number {
  const end = fn.end < code.slots.length ? (code.slots[fn.end] as number) : code.section.size / SLOT;
  return end - (code.slots[fn.first] as number);
}

const sortedness = new WeakMap<readonly { insnOff: number }[], boolean>();

/**
 * The records with `start <= insnOff < end`, in order. Compilers emit them sorted, so a binary
 * search finds the first; an unsorted (hostile) table is scanned whole instead.
 */
function within<R extends { readonly insnOff: number }>(
  records: readonly R[],
  start: number,
  end: number,
): readonly R[] {
  if (records.length === 0) return records;
  let sorted = sortedness.get(records);
  if (sorted === undefined) {
    sorted = records.every((r, i) => i === 0 || (records[i - 1] as R).insnOff <= r.insnOff);
    sortedness.set(records, sorted);
  }
  if (!sorted) return records.filter((r) => r.insnOff >= start && r.insnOff < end);
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid] as R).insnOff < start) lo = mid + 1;
    else hi = mid;
  }
  let stop = lo;
  while (stop < records.length && (records[stop] as R).insnOff < end) stop++;
  return records.slice(lo, stop);
}
