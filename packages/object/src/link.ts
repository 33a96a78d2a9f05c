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
      const base = at.index;
      within(records.funcInfo, code, fn, start, end, (r, insn) =>
        funcInfo.push({ insn: base + insn, typeId: r.typeId }),
      );
      within(records.lineInfo, code, fn, start, end, (r, insn) =>
        lineInfo.push({
          insn: base + insn,
          fileNameOff: r.fileNameOff,
          lineOff: r.lineOff,
          line: r.line,
          column: r.column,
        }),
      );
      within(records.coreRelo, code, fn, start, end, (r, insn) =>
        coreRelocations.push({
          insn: base + insn,
          typeId: r.typeId,
          accessString: r.accessString ?? '',
          kind: r.kind,
        }),
      );
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

/**
 * Calls `take` with each record of `records` on an instruction of `fn` (bytes `start` to `end`
 * of its section) and that instruction's index in `fn`; no copy of the records is made.
 */
function within<R extends { readonly insnOff: number }>(
  records: readonly R[],
  code: CodeFunction['code'],
  fn: CodeFunction,
  start: number,
  end: number,
  take: (record: R, insn: number) => void,
): void {
  for (let r = first(records, start), stop = last(records, r, end); r < stop; r++) {
    const record = records[r] as R;
    const insn = localIndex(code, fn, record.insnOff);
    if (insn >= 0) take(record, insn);
  }
}

/** The index in `fn`'s section of the instruction at byte `insnOff`, less `fn.first`; -1 when outside `fn`. */
function localIndex(code: CodeFunction['code'], fn: CodeFunction, insnOff: number): number {
  const index = insnOff % SLOT === 0 ? code.indexOfSlot(insnOff / SLOT) : -1;
  return index >= fn.first && index < fn.end ? index - fn.first : -1;
}

const sortedness = new WeakMap<readonly { insnOff: number }[], boolean>();

/**
 * Where the records with `insnOff >= start` begin. Compilers emit them sorted, so a binary
 * search finds it; an unsorted (hostile) table is scanned whole instead (from 0 to its end,
 * `localIndex` leaving out the records of other functions).
 */
function first(records: readonly { readonly insnOff: number }[], start: number): number {
  if (records.length === 0) return 0;
  let sorted = sortedness.get(records);
  if (sorted === undefined) {
    sorted = records.every((r, i) => i === 0 || (records[i - 1] as { insnOff: number }).insnOff <= r.insnOff);
    sortedness.set(records, sorted);
  }
  if (!sorted) return 0;
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid] as { insnOff: number }).insnOff < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Where the records from `from` with `insnOff < end` stop (a table `first` found unsorted: its end). */
function last(records: readonly { readonly insnOff: number }[], from: number, end: number): number {
  if (sortedness.get(records) !== true) return records.length;
  let stop = from;
  while (stop < records.length && (records[stop] as { insnOff: number }).insnOff < end) stop++;
  return stop;
}
