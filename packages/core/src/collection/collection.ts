/**
 * `Collection.load`: turns an object's specs into kernel objects the collection owns. Maps first
 * (replacements and pinned maps reused, the rest created with what the object initialises),
 * then programs with their map references resolved, then the slots of prog arrays and maps of
 * maps that name programs or maps. Whatever fails, everything made so far is closed again
 * (and pins it made removed), so a failed load leaves nothing behind.
 */
import type { Instruction } from '@ebpf/asm';
import { type Btf, CoreResolver } from '@ebpf/btf';
import { kernelBtf } from '@ebpf/btf/node';
import {
  applyCoreRelocations,
  BytecodeCopies,
  type ExternSpec,
  type LineInfo,
  type MapSpec,
  type ProgramSpec,
  programBytecode,
  type VariableSpec,
} from '@ebpf/object';
import { BtfHandle } from '../btf/handle.ts';
import { InvalidArgumentError, NotFoundError, PermissionError } from '../errors.ts';
import {
  type AutoAttachOptions,
  attachesFromSection,
  attachPlanned,
  type Link,
  planAttach,
} from '../link/index.ts';
import type { BpfMap } from '../map/map.ts';
import { createObjectMap, objectMapOptions } from '../map/object-spec.ts';
import type { ProgramBtf } from '../program/btf-info.ts';
import type { ProgramInstructions } from '../program/instructions.ts';
import type { LogLevel } from '../program/load.ts';
import { BpfProgram, type ProgramLoadOptions } from '../program/program.ts';
import type { ProgramFunction } from '../program/replace-target.ts';
import type { AttachTypeLike, ProgramTypeName } from '../program/types.ts';
import { VerifierError } from '../program/verifier-error.ts';
import { type KernelSymbols, kconfigData, RunningKernel, resolveKsyms } from './externs.ts';
import { moduleTypes } from './kernel-types.ts';
import { objectBtfBytes } from './object-btf.ts';
import { openPinnedMap, pinnedMapPath } from './pinning.ts';
import { CollectionSpec } from './spec.ts';
import { Variable } from './variable.ts';

/** What `Collection.load` needs of a `CollectionSpec` (`@ebpf/object`'s parse result, or one made by hand). */
export interface CollectionSpecLike {
  /** The object's name, for errors (`CollectionSpec.parse` takes it from the file name). */
  readonly name?: string | undefined;
  readonly programs: Readonly<Record<string, ProgramSpec>>;
  readonly maps: Readonly<Record<string, MapSpec>>;
  readonly variables?: Readonly<Record<string, VariableSpec>> | undefined;
  readonly externs?: Readonly<Record<string, ExternSpec>> | undefined;
  /** The object's BTF: decodes variables through typedefs and qualifiers. */
  readonly btf?: Btf | undefined;
  /** Functions of hidden visibility, whose BTF the loader makes static (as libbpf does). */
  readonly hiddenFunctions?: ReadonlySet<string> | undefined;
}

/** Per-program load options. */
export interface CollectionProgramOptions {
  /** False leaves the program unloaded (as `SEC("?...")` does): it is then absent from `coll.programs`. */
  readonly load?: boolean;
  /**
   * A `freplace/FUNCTION` (ext) program's target: the loaded program whose global FUNCTION it
   * replaces (as libbpf's `bpf_program__set_attach_target`). Ext programs cannot load without one.
   */
  readonly target?: BpfProgram;
}

/** Options of {@link Collection.load}: what only matters when the object meets the kernel. */
export interface CollectionLoadOptions {
  /** Existing maps to use instead of creating the object's maps of these names (they stay the caller's). */
  // biome-ignore lint/suspicious/noExplicitAny: a map of any key and value codecs stands in; BpfMap is invariant in both.
  readonly maps?: Readonly<Record<string, BpfMap<any, any>>>;
  /** Folder on bpffs for maps declared `__uint(pinning, LIBBPF_PIN_BY_NAME)`: reused if pinned there, else pinned. */
  readonly pinPath?: string;
  /** CO-RE target BTF; default the running kernel's and its loaded modules'. */
  readonly kernelTypes?: Btf;
  /** Load options of single programs, by name (a key of `spec.programs`). */
  readonly programs?: Readonly<Record<string, CollectionProgramOptions>>;
  /** Verifier log level for every program (see `BpfProgram.load`). */
  readonly logLevel?: LogLevel;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Types whose `attachTo` is a kernel function looked up in BTF at load. */
const btfTargetTypes = new Set<string>(['tracing', 'lsm']);

/** libbpf's program name rule: 15 characters of [A-Za-z0-9_.], others replaced by '_'. */
const kernelProgramName = (name: string): string => name.slice(0, 15).replace(/[^A-Za-z0-9_.]/g, '_');

/** Everything a load made, closed in reverse when it fails. */
class Made {
  btf: BtfHandle | undefined;
  readonly maps: BpfMap[] = [];
  readonly programs: BpfProgram[] = [];
  readonly pins: BpfMap[] = [];

  dispose(): void {
    for (const map of this.pins) map.unpin();
    for (const program of this.programs) program.close();
    for (const map of this.maps) map.close();
    this.btf?.close();
  }
}

/** The maps, programs and variables of one loaded object; closing it closes what it made. */
export class Collection implements Disposable {
  /** Loaded programs by C function name (those `SEC("?...")` or `load: false` left out are absent). */
  readonly programs: Readonly<Record<string, BpfProgram>>;
  /** The maps by C name (global data by section name), created or taken from `options.maps`. */
  readonly maps: Readonly<Record<string, BpfMap>>;
  /** Global variables by C name, read and written through their data maps. */
  readonly variables: Readonly<Record<string, Variable>>;
  readonly #made: Made;
  readonly #specs: Readonly<Record<string, ProgramSpec>>;
  /** The object's BTF: lays out what attaching writes into the object's maps (USDT specs). */
  readonly #btf: Btf | undefined;
  /** Links made by `attach`/`attachAll` that the caller did not take: closed with the collection. */
  readonly #links = new Set<Link>();

  private constructor(
    programs: Record<string, BpfProgram>,
    maps: Record<string, BpfMap>,
    variables: Record<string, Variable>,
    made: Made,
    specs: Readonly<Record<string, ProgramSpec>>,
    btf: Btf | undefined,
  ) {
    this.programs = Object.freeze(programs);
    this.maps = Object.freeze(maps);
    this.variables = Object.freeze(variables);
    this.#made = made;
    this.#specs = specs;
    this.#btf = btf;
  }

  /**
   * Loads an object (a spec, the bytes of an ELF object, or its path): creates its maps, loads its programs, fills what it initialises. A program
   * the kernel refuses throws the error `BpfProgram.load` throws, its message prefixed with the
   * object, program and section; nothing created stays open.
   */
  static load(
    source: CollectionSpecLike | Uint8Array | string,
    options: CollectionLoadOptions = {},
  ): Collection {
    const spec =
      typeof source === 'string'
        ? CollectionSpec.fromFile(source)
        : source instanceof Uint8Array
          ? CollectionSpec.parse(source)
          : source;
    checkOptions(spec, options);
    const made = new Made();
    try {
      if (spec.btf !== undefined) made.btf = BtfHandle.load(objectBtfBytes(spec.btf, spec));
      const maps = loadMaps(spec, options, made);
      const programs = loadPrograms(spec, options, maps, made);
      fillReferences(spec, maps, programs);
      const variables: Record<string, Variable> = {};
      for (const [name, variable] of Object.entries(spec.variables ?? {})) {
        const map = maps[variable.section];
        const section = spec.maps[variable.section];
        if (map === undefined || section === undefined) continue;
        variables[name] = new Variable(variable, map, section.readOnly === true, spec.btf);
      }
      return new Collection(programs, maps, variables, made, spec.programs, spec.btf);
    } catch (error) {
      made.dispose();
      throw error;
    }
  }

  /**
   * Attaches program `name` where its section says, as libbpf's auto-attach does
   * (`tp/syscalls/sys_enter_openat`, `raw_tp/sys_enter`, `uprobe//proc/self/exe:fn+0x10`,
   * `iter/task`...); what a section cannot say comes from `options` (`interface` for `xdp` and
   * `tcx/ingress`, `cgroup` for `cgroup_skb/egress`, `netns`, `perfEvent`...), and a missing one
   * is an `InvalidArgumentError` naming it. `usdt/PATH:PROVIDER:NAME` programs read their
   * arguments through the collection's own `__bpf_usdt_specs` map. The link is closed with the
   * collection unless `take` is true, in which case it is the caller's.
   */
  attach(name: string, options: AutoAttachOptions & { readonly take?: boolean } = {}): Link {
    const program = this.programs[name];
    const spec = this.#specs[name];
    if (program === undefined || spec === undefined)
      throw new InvalidArgumentError(
        `attach: the collection has no loaded program ${name} (it has ${Object.keys(this.programs).join(', ') || 'none'})`,
      );
    const plan = planAttach(spec, options);
    const link = attachPlanned(program, plan, plan.hook === 'usdt' ? this.#withUsdtMaps(options) : options);
    if (options.take !== true) this.#links.add(link);
    return link;
  }

  /** `options` with the collection's usdt.bpf.h spec map, unless the caller gave other maps. */
  #withUsdtMaps(options: AutoAttachOptions): AutoAttachOptions {
    const specs = this.maps.__bpf_usdt_specs;
    if (options.usdtMaps !== undefined || specs === undefined) return options;
    return { ...options, usdtMaps: { specs, btf: this.#btf } };
  }

  /**
   * Attaches every loaded program whose section says where it goes (socket filters, syscall
   * programs and others that attach elsewhere are left alone), with `options` for what
   * sections cannot say. All or nothing: if one fails, those attached by this call are closed.
   * The links are the collection's, closed with it.
   */
  attachAll(options: AutoAttachOptions = {}): Link[] {
    const links: Link[] = [];
    try {
      for (const [name, spec] of Object.entries(this.#specs)) {
        if (this.programs[name] === undefined || !attachesFromSection(spec)) continue;
        links.push(this.attach(name, options));
      }
      return links;
    } catch (error) {
      for (const link of links) {
        this.#links.delete(link);
        link.close();
      }
      throw error;
    }
  }

  /** Closes every link it attached, then every map and program it made (replacement maps stay open; pins stay). */
  close(): void {
    for (const link of this.#links) link.close();
    this.#links.clear();
    for (const program of this.#made.programs) program.close();
    for (const map of this.#made.maps) map.close();
    this.#made.btf?.close();
  }

  /** Closes the collection at the end of a `using` block; same as {@link Collection.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function checkOptions(spec: CollectionSpecLike, options: CollectionLoadOptions): void {
  if (
    spec === null ||
    typeof spec !== 'object' ||
    typeof spec.programs !== 'object' ||
    typeof spec.maps !== 'object'
  )
    throw new InvalidArgumentError(
      'Collection.load takes a CollectionSpec (CollectionSpec.parse(bytes) or .fromFile(path))',
    );
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('Collection.load: options must be an object');
  for (const name of Object.keys(options.maps ?? {})) {
    if (!Object.hasOwn(spec.maps, name))
      throw new InvalidArgumentError(
        `options.maps.${name}: the object has no map ${name} (it has ${Object.keys(spec.maps).join(', ') || 'none'})`,
      );
  }
  for (const name of Object.keys(options.programs ?? {})) {
    if (!Object.hasOwn(spec.programs, name))
      throw new InvalidArgumentError(
        `options.programs.${name}: the object has no program ${name} (it has ${Object.keys(spec.programs).join(', ') || 'none'})`,
      );
  }
}

/** Throws unless `map` (a replacement or a pinned map) can stand in for `spec`. */
export function checkCompatible(map: BpfMap, spec: MapSpec, what: string): void {
  const want = objectMapOptions(spec);
  const differences: string[] = [];
  if (map.typeName !== spec.type) differences.push(`type ${map.typeName}, not ${spec.type}`);
  if (map.keySize !== spec.keySize) differences.push(`keySize ${map.keySize}, not ${spec.keySize}`);
  if (map.valueSize !== spec.valueSize) differences.push(`valueSize ${map.valueSize}, not ${spec.valueSize}`);
  if (want.maxEntries !== undefined && map.maxEntries !== want.maxEntries)
    differences.push(`maxEntries ${map.maxEntries}, not ${want.maxEntries}`);
  const flags = want.flags ?? 0;
  if ((map.flags & flags) !== flags)
    differences.push(`flags 0x${map.flags.toString(16)}, lacking 0x${flags.toString(16)}`);
  if (differences.length > 0)
    throw new InvalidArgumentError(
      `${what} does not match map ${spec.name} of the object: it has ${differences.join(', ')}`,
    );
}

function loadMaps(
  spec: CollectionSpecLike,
  options: CollectionLoadOptions,
  made: Made,
): Record<string, BpfMap> {
  const maps: Record<string, BpfMap> = {};
  for (const [name, mapSpec] of Object.entries(spec.maps)) {
    const replacement = options.maps?.[name] as BpfMap | undefined;
    if (replacement !== undefined) {
      checkCompatible(replacement, mapSpec, `options.maps.${name}`);
      maps[name] = replacement;
      continue;
    }
    const pinned = mapSpec.pinning === 'by_name' && options.pinPath !== undefined;
    const path = pinned ? pinnedMapPath(options.pinPath as string, mapSpec) : undefined;
    const existing = path === undefined ? undefined : openPinnedMap(path);
    if (existing !== undefined) {
      made.maps.push(existing);
      checkCompatible(existing, mapSpec, `the map pinned at ${path}`);
      maps[name] = existing;
      continue;
    }
    const map = createWithBtf(withKconfig(spec, mapSpec), made.btf);
    made.maps.push(map);
    if (path !== undefined) {
      map.pin(path);
      made.pins.push(map);
    }
    maps[name] = map;
  }
  return maps;
}

/** The `.kconfig` map with its externs' values from the running kernel; other maps as they are. */
function withKconfig(spec: CollectionSpecLike, map: MapSpec): MapSpec {
  if (map.name !== '.kconfig' || spec.btf === undefined) return map;
  return { ...map, data: kconfigData(map, Object.values(spec.externs ?? {}), spec.btf) };
}

/**
 * What a program is loaded against: for tracing programs their kernel function by its name in
 * kernel BTF (raw tracepoints are `btf_trace_<name>` typedefs), for ext programs the function of
 * `options.target` their section names.
 */
function attachTarget(
  name: string,
  program: ProgramSpec,
  options: CollectionProgramOptions | undefined,
): string | number | ProgramFunction | undefined {
  const target = program.attachTo;
  if (program.type === 'ext') return replacedFunction(name, program, options?.target);
  if (options?.target !== undefined)
    throw new InvalidArgumentError(
      `programs.${name}.target is for freplace (ext) programs; this one is a ${program.type} program`,
    );
  if (target === undefined || !btfTargetTypes.has(program.type)) return undefined;
  if (program.attachType === 'trace_raw_tp') {
    const id = kernelBtf().typeByName(`btf_trace_${target}`, 'typedef')?.id;
    if (id === undefined)
      throw new NotFoundError(
        `the kernel has no raw tracepoint ${target} (no btf_trace_${target} in its BTF)`,
      );
    return id;
  }
  return program.type === 'lsm' ? `bpf_lsm_${target}` : target;
}

/** `freplace/FUNCTION` names the function; the option names the program that has it. */
function replacedFunction(
  name: string,
  program: ProgramSpec,
  target: BpfProgram | undefined,
): ProgramFunction {
  const fn = program.attachTo;
  if (fn === undefined || fn === '')
    throw new InvalidArgumentError(
      `section '${program.section}' does not name the function it replaces: write it as freplace/FUNCTION`,
    );
  if (target === undefined)
    throw new InvalidArgumentError(
      `ext programs load against the program they replace a function of: give programs.${name}.target, the loaded program whose function ${fn} this one replaces`,
    );
  return { program: target, function: fn };
}

/**
 * Creates a map with its key and value types from the object's BTF; a map the kernel refuses
 * with BTF (prog arrays, some map-in-map templates) is created again without, as libbpf does.
 */
function createWithBtf(spec: MapSpec, btf: BtfHandle | undefined): BpfMap {
  if (btf === undefined || spec.valueType === undefined) return createObjectMap(spec);
  try {
    return createObjectMap(spec, {
      fd: btf,
      ...(spec.keyType === undefined ? {} : { keyTypeId: spec.keyType.id }),
      valueTypeId: spec.valueType.id,
    });
  } catch (error) {
    if (error instanceof PermissionError || error instanceof InvalidArgumentError) throw error;
    return createObjectMap(spec);
  }
}

/** Instruction index to slot (ldimm64 takes two), for the kernel's func_info/line_info offsets. */
function slotsOf(program: ProgramSpec): Uint32Array {
  const { instructions } = program;
  const slots = new Uint32Array(instructions.length + 1);
  for (let i = 0; i < instructions.length; i++)
    slots[i + 1] = (slots[i] as number) + ((instructions[i] as Instruction).op === LD_IMM64 ? 2 : 1);
  return slots;
}

const LD_IMM64 = 0x18;

/** The program's BTF records: those encoded with its bytes, or its own with instruction indexes turned into slots. */
function programBtf(program: ProgramSpec, handle: BtfHandle, records: ProgramCode['records']): ProgramBtf {
  if (records !== undefined) return { handle, funcInfo: records.funcInfo, lineInfo: records.lineInfo };
  const slots = slotsOf(program);
  return {
    handle,
    funcInfo: program.funcInfo.map((r) => ({ insn: slots[r.insn] as number, typeId: r.typeId })),
    lineInfo: program.lineInfo.map((r) => ({
      insn: slots[r.insn] as number,
      fileNameOff: r.fileNameOff,
      lineOff: r.lineOff,
      line: r.line,
      column: r.column,
    })),
  };
}

/** The program's instructions with its CO-RE relocations applied against the target BTF (the running kernel's by default). */
function relocated(
  program: ProgramSpec,
  spec: CollectionSpecLike,
  resolver: () => CoreResolver,
): readonly Instruction[] {
  if (program.coreRelocations.length === 0) return program.instructions;
  if (spec.btf === undefined)
    throw new InvalidArgumentError(`program ${program.name} has CO-RE relocations but the spec has no BTF`);
  return applyCoreRelocations(program.instructions, program.coreRelocations, spec.btf, [], {
    resolver: resolver(),
    program: program.name,
  });
}

/** What programs loaded as bytes take their map fds and code copies from, one per load. */
interface LoadBytecode {
  readonly mapFd: (map: string) => number | undefined;
  readonly copies: BytecodeCopies;
}

/** What a program is loaded with, and its encoded BTF records when it is loaded as bytes. */
interface ProgramCode {
  readonly instructions: ProgramInstructions;
  readonly fdArray: readonly number[] | undefined;
  readonly records: { readonly funcInfo: Uint8Array; readonly lineInfo: Uint8Array } | undefined;
}

/**
 * A parsed program's linked bytes with map fds written in (nothing decoded); a program with
 * CO-RE relocations or externs, or from a hand-made spec, goes through its instructions.
 */
function programCode(
  program: ProgramSpec,
  spec: CollectionSpecLike,
  bytecode: LoadBytecode,
  resolver: () => CoreResolver,
  kernel: KernelSymbols,
): ProgramCode {
  const code = programBytecode(program, bytecode.mapFd, bytecode.copies);
  if (code !== undefined) return { instructions: code.bytecode, fdArray: undefined, records: code };
  const ksyms = resolveKsyms(relocated(program, spec, resolver), program, spec.externs ?? {}, kernel);
  return { instructions: ksyms.instructions, fdArray: ksyms.fdArray, records: undefined };
}

/** The C source line (from line info) of instruction slot `slot`, as `file:line:column: text`. */
function sourceLine(program: ProgramSpec, btf: Btf, slot: number | undefined): string | undefined {
  if (slot === undefined || program.lineInfo.length === 0) return undefined;
  const slots = slotsOf(program);
  let line: LineInfo | undefined;
  for (const record of program.lineInfo) if ((slots[record.insn] as number) <= slot) line = record;
  if (line === undefined) return undefined;
  const file = btf.str(line.fileNameOff, 0).split('/').pop();
  return `${file}:${line.line}:${line.column}: ${btf.str(line.lineOff, 0).trim()}`;
}

function loadPrograms(
  spec: CollectionSpecLike,
  options: CollectionLoadOptions,
  maps: Record<string, BpfMap>,
  made: Made,
): Record<string, BpfProgram> {
  // Module BTF fds that kfuncs and ksyms name stay open until every program is loaded.
  const kernel = new RunningKernel(kernelBtf());
  try {
    return loadEachProgram(spec, options, maps, made, kernel);
  } finally {
    kernel.close();
  }
}

function loadEachProgram(
  spec: CollectionSpecLike,
  options: CollectionLoadOptions,
  maps: Record<string, BpfMap>,
  made: Made,
  kernel: KernelSymbols,
): Record<string, BpfProgram> {
  const programs: Record<string, BpfProgram> = {};
  // One resolver per load: candidates found for one program serve the others.
  let resolver: CoreResolver | undefined;
  const resolve = (): CoreResolver => {
    resolver ??= options.kernelTypes
      ? new CoreResolver(spec.btf as Btf, [options.kernelTypes])
      : new CoreResolver(spec.btf as Btf, [kernelBtf()], { modules: moduleTypes });
    return resolver;
  };
  const bytecode: LoadBytecode = {
    mapFd: (map) => (Object.hasOwn(maps, map) ? maps[map]?.fd : undefined),
    copies: new BytecodeCopies(),
  };
  for (const [name, program] of Object.entries(spec.programs)) {
    if (!(options.programs?.[name]?.load ?? program.autoload)) continue;
    if (program.problem !== undefined) {
      throw program.problem;
    }
    try {
      const target = attachTarget(name, program, options.programs?.[name]);
      const code = programCode(program, spec, bytecode, resolve, kernel);
      // Built field by field, not by spreading `{}` or a one-field object per optional field.
      const load: Mutable<ProgramLoadOptions> = {
        type: program.type as ProgramTypeName,
        instructions: code.instructions,
        license: program.license,
        name: kernelProgramName(name),
        flags: program.flags,
        kernelVersion: program.kernelVersion,
        maps,
      };
      if (code.fdArray !== undefined) load.fdArray = code.fdArray;
      if (program.attachType !== undefined) load.attachType = program.attachType as AttachTypeLike;
      if (target !== undefined) load.attachTo = target;
      if (options.logLevel !== undefined) load.logLevel = options.logLevel;
      if (made.btf !== undefined) load.btf = programBtf(program, made.btf, code.records);
      const loaded = BpfProgram.load(load);
      made.programs.push(loaded);
      programs[name] = loaded;
    } catch (error) {
      // Same error class and fields as BpfProgram.load's; the message says which program (and C line).
      if (error instanceof VerifierError && spec.btf !== undefined) {
        error.source = sourceLine(program, spec.btf, error.instruction);
        if (error.source !== undefined) error.message += ` (at ${error.source})`;
      }
      if (error instanceof Error)
        error.message = `object ${spec.name ?? '(unnamed)'}: program ${name} (section ${program.section}): ${error.message}`;
      throw error;
    }
  }
  return programs;
}

const slotKey = (key: number): Uint8Array => new Uint8Array(new Uint32Array([key]).buffer);
const slotValue = (fd: number): Uint8Array => new Uint8Array(new Uint32Array([fd]).buffer);

/** Prog array and map-of-maps slots the object initialises with programs or maps (unloaded programs are left out, as libbpf does). */
function fillReferences(
  spec: CollectionSpecLike,
  maps: Record<string, BpfMap>,
  programs: Record<string, BpfProgram>,
): void {
  for (const [name, mapSpec] of Object.entries(spec.maps)) {
    const map = maps[name] as BpfMap;
    for (const content of mapSpec.contents) {
      if ('program' in content) {
        const program = programs[content.program];
        if (program !== undefined) map.update(slotKey(content.key), slotValue(program.fd));
      } else if ('map' in content) {
        const inner = maps[content.map];
        if (inner === undefined)
          throw new InvalidArgumentError(
            `map ${name}: slot ${content.key} names map ${content.map}, which the object lacks`,
          );
        map.update(slotKey(content.key), slotValue(inner.fd));
      }
    }
  }
}
