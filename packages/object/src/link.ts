/**
 * Links an entry function with every function it calls or takes the address of, the way libbpf
 * does so the result equals what libbpf submits: each callee is appended once, at the end, the
 * first time a call to it is met, and processed right away (depth first); call and
 * function-address immediates then become slot deltas, patched into one copy of the functions'
 * bytes. `.BTF.ext` records follow their instructions, main function first and callees in the
 * order they were appended; function and line records are written as the kernel takes them.
 */
import { CALL, type CodeFunction, type CodeReference, type CodeTarget, SLOT } from './code.ts';
import { CodeView } from './code-view.ts';
import type { ElfSection } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import { FUNC_INFO_SIZE, LINE_INFO_SIZE, writeFuncInfo, writeLineInfo } from './kernel-records.ts';
import type { CoreRelocation, ExternReference } from './spec.ts';

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
  /** `bpf_func_info` records (insn_off in slots), in the code's byte order. */
  readonly funcInfo: Uint8Array;
  /** `bpf_line_info` records (insn_off in slots), in the code's byte order. */
  readonly lineInfo: Uint8Array;
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
  let recordBytes = 0;
  for (const p of plans) recordBytes += p.funcs.length * FUNC_INFO_SIZE + p.lines.length * LINE_INFO_SIZE;
  const bytes = new Uint8Array(slots * SLOT);
  const slotOf = new Uint32Array(counts);
  const records = new Records(recordBytes);
  slots = 0;
  counts = 0;
  return plans.map((p) => {
    const code = new CodeView(bytes.subarray(slots * SLOT, (slots + p.slots) * SLOT), p.littleEndian);
    const linked = layOut(p, code, slotOf.subarray(counts, counts + p.count + 1), records);
    slots += p.slots;
    counts += p.count + 1;
    return linked;
  });
}

/** One buffer for the kernel records of every program of an object, filled in turn. */
class Records {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Where the next records go. */
  at = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /**
   * Writes `placed` as kernel records of `size` bytes each, by `write`, at the slots `slotOf`
   * gives their instructions; returns the bytes written.
   */
  write<R>(
    placed: PlacedRecords<R>,
    size: number,
    write: (view: DataView, at: number, slot: number, record: R, littleEndian: boolean) => void,
    slotOf: Uint32Array,
    littleEndian: boolean,
  ): Uint8Array {
    const start = this.at;
    for (let i = 0; i < placed.length; i++, this.at += size)
      write(
        this.view,
        this.at,
        slotOf[placed.insns[i] as number] as number,
        placed.records[i] as R,
        littleEndian,
      );
    return this.bytes.subarray(start, this.at);
  }
}

type FuncRecord = ExtRecords['funcInfo'][number];
type LineRecord = ExtRecords['lineInfo'][number];
type CoreRecord = ExtRecords['coreRelo'][number];

/**
 * `.BTF.ext` records of the linked code, each with the index of its instruction there: parallel
 * arrays, not a new object per record.
 */
class PlacedRecords<R> {
  readonly records: R[] = [];
  readonly insns: number[] = [];
  get length(): number {
    return this.insns.length;
  }
  push(record: R, insn: number): void {
    this.records.push(record);
    this.insns.push(insn);
  }
}

/** A linked program before its code is laid out: where each function goes, and what to patch. */
interface LinkPlan
  extends Omit<LinkedProgram, 'code' | 'slots' | 'funcInfo' | 'lineInfo' | 'coreRelocations'> {
  readonly order: readonly Placement[];
  readonly funcs: PlacedRecords<FuncRecord>;
  readonly lines: PlacedRecords<LineRecord>;
  readonly cores: PlacedRecords<CoreRecord>;
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
  const planner = new Planner(entry, context, tablesOf);
  planner.append(entry);
  planner.process(entry);
  return planner;
}

/**
 * Plans one program: a class, not closures in `plan`, as closures made per program (and their
 * names, which the `@ebpf/source` build sets on each) cost parsing more than the planning.
 */
class Planner implements LinkPlan {
  readonly order: Placement[] = [];
  readonly placed = new Map<CodeFunction, Placement>();
  readonly deltas: Delta[] = [];
  readonly references: LinkedReference[] = [];
  readonly funcs = new PlacedRecords<FuncRecord>();
  readonly lines = new PlacedRecords<LineRecord>();
  readonly cores = new PlacedRecords<CoreRecord>();
  readonly externReferences: ExternReference[] = [];
  readonly littleEndian: boolean;
  count = 0;
  slots = 0;
  problem: ObjectError | undefined;

  constructor(
    private readonly entry: CodeFunction,
    private readonly context: LinkContext,
    private readonly tablesOf: (section: ElfSection) => SectionTables | undefined,
  ) {
    this.littleEndian = entry.code.view.littleEndian;
  }

  fail(fn: CodeFunction, index: number, reason: string): void {
    this.problem ??= new ObjectError(reason, {
      object: this.context.objectName,
      section: fn.code.section.name,
      program: this.entry.name,
      instruction: fn.code.slots[index],
    });
  }

  append(fn: CodeFunction): Placement {
    const at: Placement = { fn, index: this.count, slot: this.slots };
    this.placed.set(fn, at);
    this.order.push(at);
    const { code } = fn;
    const firstSlot = code.slots[fn.first] as number;
    this.count += fn.end - fn.first;
    this.slots += slotSpan(code, fn);
    for (let i = fn.first; i < fn.end; i++) {
      const reference = code.references[i];
      if (reference !== undefined)
        this.references.push({
          insn: at.index + i - fn.first,
          slot: at.slot + (code.slots[i] as number) - firstSlot,
          reference,
        });
    }
    // Most sections have neither externs nor problems: no lookup per instruction then.
    if (code.externs.size > 0 || code.problems.size > 0)
      for (let i = fn.first; i < fn.end; i++) {
        const extern = code.externs.get(i);
        if (extern !== undefined) this.externReferences.push({ insn: at.index + i - fn.first, name: extern });
        const reason = code.problems.get(i);
        if (reason !== undefined) this.fail(fn, i, reason);
      }
    const records = this.tablesOf(code.section);
    if (records !== undefined) {
      const start = firstSlot * SLOT;
      const end = start + slotSpan(code, fn) * SLOT;
      within(records.funcInfo, code, fn, start, end, this.funcs, at.index);
      within(records.lineInfo, code, fn, start, end, this.lines, at.index);
      within(records.coreRelo, code, fn, start, end, this.cores, at.index);
    }
    return at;
  }

  process(fn: CodeFunction): void {
    const base = this.placed.get(fn) as Placement;
    const { code } = fn;
    for (let i = fn.first; i < fn.end; i++) {
      const target = code.targets[i];
      if (target === undefined) continue;
      const callee = this.context.functionAt(target);
      if (typeof callee === 'string') {
        this.fail(fn, i, callee);
        continue;
      }
      let to = this.placed.get(callee);
      if (to === undefined) {
        to = this.append(callee);
        this.process(callee);
      }
      const slot = base.slot + (code.slots[i] as number) - (code.slots[fn.first] as number);
      this.deltas.push({
        slot,
        call: code.view.op(code.slots[i] as number) === CALL,
        delta: to.slot - slot - 1,
      });
    }
  }
}

/**
 * The planned functions' bytes one after another in `code`, deltas patched, each instruction's
 * slot in `slotOf`, the function and line records next in `records`.
 */
function layOut(plan: LinkPlan, code: CodeView, slotOf: Uint32Array, records: Records): LinkedProgram {
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
  const { funcs, lines, littleEndian } = plan;
  const funcInfo = records.write(funcs, FUNC_INFO_SIZE, writeFuncInfo, slotOf, littleEndian);
  const lineInfo = records.write(lines, LINE_INFO_SIZE, writeLineInfo, slotOf, littleEndian);
  const { references, externReferences, problem } = plan;
  const coreRelocations = coreRelocationsOf(plan.cores);
  return { code, slots: slotOf, references, funcInfo, lineInfo, coreRelocations, externReferences, problem };
}

/** The CO-RE relocations of the placed records. */
function coreRelocationsOf(cores: PlacedRecords<CoreRecord>): CoreRelocation[] {
  const out: CoreRelocation[] = [];
  for (let i = 0; i < cores.length; i++) {
    const r = cores.records[i] as CoreRecord;
    out.push({
      insn: cores.insns[i] as number,
      typeId: r.typeId,
      accessString: r.accessString ?? '',
      kind: r.kind,
    });
  }
  return out;
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
 * Adds to `into` each record of `table` on an instruction of `fn` (bytes `start` to `end` of
 * its section), with that instruction's index in `fn` plus `base`; no copy of the records is made. Sorted
 * records are found by a binary search; an unsorted (hostile) table is scanned whole,
 * `localIndex` leaving out the records of other functions.
 */
function within<R extends { readonly insnOff: number }>(
  { records, sorted }: Table<R>,
  code: CodeFunction['code'],
  fn: CodeFunction,
  start: number,
  end: number,
  into: PlacedRecords<R>,
  base: number,
): void {
  const from = sorted ? firstAtOrAfter(records, start) : 0;
  for (let r = from; r < records.length; r++) {
    const record = records[r] as R;
    if (sorted && record.insnOff >= end) break;
    const insn = localIndex(code, fn, record.insnOff);
    if (insn >= 0) into.push(record, base + insn);
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
