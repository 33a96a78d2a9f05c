/**
 * Links an entry function with every function it calls or takes the address of, the way libbpf
 * does so the result equals what libbpf submits: each callee is appended once, at the end, the
 * first time a call to it is met, and processed right away (depth first); call and
 * function-address immediates then become slot deltas, patched into one copy of the functions'
 * bytes. `.BTF.ext` records follow their instructions, main function first and callees in the
 * order they were appended.
 */
import { CALL, type CodeFunction, type CodeReference, type CodeTarget, SLOT } from './code.ts';
import { CodeView } from './code-view.ts';
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

/** A map or kfunc a linked instruction names: its index and slot in the linked code. */
export interface LinkedReference {
  readonly insn: number;
  readonly slot: number;
  readonly reference: CodeReference;
}

export interface LinkedProgram {
  /** The linked code, in the object's byte order; map references carry no fd yet. */
  readonly code: CodeView;
  /** The slot each instruction starts at, and after them the slot count. */
  readonly slots: Uint32Array;
  readonly references: readonly LinkedReference[];
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
  readonly fn: CodeFunction;
  readonly index: number;
  readonly slot: number;
}

/** A call or function address of the linked code and the slot delta it gets. */
interface Delta {
  readonly slot: number;
  readonly call: boolean;
  readonly delta: number;
}

/**
 * Links every entry function into its program. The programs' code shares one buffer (each a
 * view of it): one allocation per object, not two per program, which the garbage collector
 * feels.
 */
export function linkPrograms(entries: readonly CodeFunction[], context: LinkContext): LinkedProgram[] {
  // Each section's records, asked for once: the linker needs them for every function it appends.
  const known = new Map<ElfSection, SectionTables | undefined>();
  const tablesOf = (section: ElfSection): SectionTables | undefined => {
    if (!known.has(section)) known.set(section, tables(context.records(section)));
    return known.get(section);
  };
  const plans = entries.map((entry) => plan(entry, context, tablesOf));
  let slots = 0;
  let counts = 0;
  for (const p of plans) {
    slots += p.slots;
    counts += p.count + 1;
  }
  const bytes = new Uint8Array(slots * SLOT);
  const slotOf = new Uint32Array(counts);
  slots = 0;
  counts = 0;
  return plans.map((p) => {
    const code = new CodeView(bytes.subarray(slots * SLOT, (slots + p.slots) * SLOT), p.littleEndian);
    const linked = layOut(p, code, slotOf.subarray(counts, counts + p.count + 1));
    slots += p.slots;
    counts += p.count + 1;
    return linked;
  });
}

/** A linked program before its code is laid out: where each function goes, and what to patch. */
interface LinkPlan extends Omit<LinkedProgram, 'code' | 'slots'> {
  readonly order: readonly Placement[];
  readonly deltas: readonly Delta[];
  /** Instructions and slots of the linked code. */
  readonly count: number;
  readonly slots: number;
  readonly littleEndian: boolean;
}

function plan(
  entry: CodeFunction,
  context: LinkContext,
  tablesOf: (section: ElfSection) => SectionTables | undefined,
): LinkPlan {
  const order: Placement[] = [];
  const placed = new Map<CodeFunction, Placement>();
  const deltas: Delta[] = [];
  const references: LinkedReference[] = [];
  const funcInfo: FuncInfo[] = [];
  const lineInfo: LineInfo[] = [];
  const coreRelocations: CoreRelocation[] = [];
  const externReferences: ExternReference[] = [];
  let count = 0;
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
    const at: Placement = { fn, index: count, slot: slots };
    placed.set(fn, at);
    order.push(at);
    const { code } = fn;
    const firstSlot = code.slots[fn.first] as number;
    count += fn.end - fn.first;
    slots += slotSpan(code, fn);
    for (let i = fn.first; i < fn.end; i++) {
      const reference = code.references[i];
      if (reference !== undefined)
        references.push({
          insn: at.index + i - fn.first,
          slot: at.slot + (code.slots[i] as number) - firstSlot,
          reference,
        });
    }
    // Most sections have neither externs nor problems: no lookup per instruction then.
    if (code.externs.size > 0 || code.problems.size > 0)
      for (let i = fn.first; i < fn.end; i++) {
        const extern = code.externs.get(i);
        if (extern !== undefined) externReferences.push({ insn: at.index + i - fn.first, name: extern });
        const reason = code.problems.get(i);
        if (reason !== undefined) fail(fn, i, reason);
      }
    const records = tablesOf(code.section);
    if (records !== undefined) {
      const start = firstSlot * SLOT;
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
      const target = code.targets[i];
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
      const slot = base.slot + (code.slots[i] as number) - (code.slots[fn.first] as number);
      deltas.push({ slot, call: code.view.op(code.slots[i] as number) === CALL, delta: to.slot - slot - 1 });
    }
  };

  append(entry);
  process(entry);
  return {
    order,
    deltas,
    count,
    slots,
    littleEndian: entry.code.view.littleEndian,
    references,
    funcInfo,
    lineInfo,
    coreRelocations,
    externReferences,
    problem,
  };
}

/** The planned functions' bytes one after another in `code`, deltas patched, each instruction's slot in `slotOf`. */
function layOut(plan: LinkPlan, code: CodeView, slotOf: Uint32Array): LinkedProgram {
  for (const { fn, index, slot } of plan.order) {
    const from = fn.code;
    const firstSlot = from.slots[fn.first] as number;
    const span = slotSpan(from, fn);
    code.bytes.set(from.view.bytes.subarray(firstSlot * SLOT, (firstSlot + span) * SLOT), slot * SLOT);
    for (let i = fn.first; i < fn.end; i++)
      slotOf[index + i - fn.first] = slot + (from.slots[i] as number) - firstSlot;
  }
  slotOf[plan.count] = plan.slots;
  for (const { slot, call, delta } of plan.deltas) {
    if (call) code.setImm(slot, delta);
    else code.setImm64(slot, delta, 0);
  }
  const { references, funcInfo, lineInfo, coreRelocations, externReferences, problem } = plan;
  return { code, slots: slotOf, references, funcInfo, lineInfo, coreRelocations, externReferences, problem };
}

/** The slots `fn`'s instructions take (an `lddw` takes two). */
function slotSpan(code: CodeFunction['code'], fn: CodeFunction): number {
  const end = fn.end < code.slots.length ? (code.slots[fn.end] as number) : code.section.size / SLOT;
  return end - (code.slots[fn.first] as number);
}

/** A table of a section's records, and whether it is sorted by offset (as compilers emit it). */
interface Table<R extends { readonly insnOff: number }> {
  readonly records: readonly R[];
  readonly sorted: boolean;
}

interface SectionTables {
  readonly funcInfo: Table<ExtRecords['funcInfo'][number]>;
  readonly lineInfo: Table<ExtRecords['lineInfo'][number]>;
  readonly coreRelo: Table<ExtRecords['coreRelo'][number]>;
}

function tables(records: ExtRecords | undefined): SectionTables | undefined {
  if (records === undefined) return undefined;
  return {
    funcInfo: table(records.funcInfo),
    lineInfo: table(records.lineInfo),
    coreRelo: table(records.coreRelo),
  };
}

function table<R extends { readonly insnOff: number }>(records: readonly R[]): Table<R> {
  let sorted = true;
  for (let i = 1; i < records.length && sorted; i++)
    sorted = (records[i - 1] as R).insnOff <= (records[i] as R).insnOff;
  return { records, sorted };
}

/**
 * Calls `take` with each record of `table` on an instruction of `fn` (bytes `start` to `end` of
 * its section) and that instruction's index in `fn`; no copy of the records is made. Sorted
 * records are found by a binary search; an unsorted (hostile) table is scanned whole,
 * `localIndex` leaving out the records of other functions.
 */
function within<R extends { readonly insnOff: number }>(
  { records, sorted }: Table<R>,
  code: CodeFunction['code'],
  fn: CodeFunction,
  start: number,
  end: number,
  take: (record: R, insn: number) => void,
): void {
  const from = sorted ? firstAtOrAfter(records, start) : 0;
  for (let r = from; r < records.length; r++) {
    const record = records[r] as R;
    if (sorted && record.insnOff >= end) break;
    const insn = localIndex(code, fn, record.insnOff);
    if (insn >= 0) take(record, insn);
  }
}

/** The index in `fn`'s section of the instruction at byte `insnOff`, less `fn.first`; -1 when outside `fn`. */
function localIndex(code: CodeFunction['code'], fn: CodeFunction, insnOff: number): number {
  const index = insnOff % SLOT === 0 ? code.indexOfSlot(insnOff / SLOT) : -1;
  return index >= fn.first && index < fn.end ? index - fn.first : -1;
}

/** Where the records (sorted) with `insnOff >= start` begin. */
function firstAtOrAfter(records: readonly { readonly insnOff: number }[], start: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((records[mid] as { insnOff: number }).insnOff < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
