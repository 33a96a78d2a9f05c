/**
 * The programs of an object: every global function of every code section other than `.text`
 * (static ones, and all of `.text`, are subprograms only), linked with what it calls, typed by its
 * section name, with the object's license and kernel version.
 */
import { decodeName } from '@ebpf/btf';
import { type CodeFunction, type CodeSection, type CodeTarget, readCode } from './code.ts';
import { dictionary } from './dictionary.ts';
import type { ElfSection } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import { type ExtRecords, type LinkedProgram, linkPrograms } from './link.ts';
import type { ObjectFile } from './object-file.ts';
import { attachCode } from './program-code.ts';
import { programSection } from './sections.ts';
import type { ExternSpec, ProgramSpec } from './spec.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface ProgramsOptions {
  readonly objectName: string;
  readonly externs: ReadonlyMap<string, ExternSpec>;
  /** `.BTF.ext` records of a code section. */
  readonly records: (section: ElfSection) => ExtRecords | undefined;
}

export function readPrograms(object: ObjectFile, options: ProgramsOptions): Record<string, ProgramSpec> {
  const code = new Map<number, CodeSection>();
  for (const section of object.sectionsOf('code'))
    code.set(section.index, readCode(object, section, options.externs));
  const license = readLicense(object);
  const kernelVersion = readVersion(object);
  const context = {
    objectName: options.objectName,
    records: options.records,
    functionAt: (target: CodeTarget) => functionAt(code, object, target),
  };

  const programs = dictionary<ProgramSpec>();
  const entries = entryFunctions(code, options.objectName);
  const linkedPrograms = linkPrograms(entries, context);
  entries.forEach((fn, i) => {
    const { section } = fn.code;
    const kind = programSection(section.name);
    const linked = linkedPrograms[i] as LinkedProgram;
    const unknown =
      kind === undefined
        ? new ObjectError(
            `is not a program section libbpf knows; name it after the program type, e.g. SEC("xdp") or SEC("tracepoint/<category>/<name>")`,
            { object: options.objectName, section: section.name, program: fn.name },
          )
        : undefined;
    const problem = unknown ?? linked.problem;
    // Built in key order, the code's getters (`instructions`, `funcInfo`, `lineInfo`) in one step, then field by field.
    const program = {
      name: fn.name,
      section: section.name,
      type: kind?.type ?? 'unspec',
      attachType: kind?.attachType,
      attachTo: kind?.attachTo,
    } as Mutable<ProgramSpec>;
    attachCode(program, linked);
    program.license = license;
    program.kernelVersion = kernelVersion;
    program.flags = kind?.flags ?? 0;
    program.autoload = kind?.autoload ?? false;
    program.coreRelocations = linked.coreRelocations;
    program.externReferences = linked.externReferences;
    if (problem !== undefined) program.problem = problem;
    programs[fn.name] = program;
  });
  return programs;
}

/**
 * The functions that are programs: the global ones of every section but `.text`. A static
 * function of a program section is a subprogram its section's programs call (libbpf 1.x
 * refuses such an object; the kernel takes it once linked).
 */
function entryFunctions(code: ReadonlyMap<number, CodeSection>, objectName: string): CodeFunction[] {
  const byName = new Map<string, CodeFunction>();
  for (const { section, functions } of code.values()) {
    if (section.name === '.text') continue;
    for (const fn of functions) {
      if (!fn.global) continue;
      const seen = byName.get(fn.name);
      if (seen !== undefined)
        throw new ObjectError(
          `two programs are named ${fn.name} (sections ${seen.code.section.name} and ${section.name}); rename one`,
          { object: objectName, section: section.name },
        );
      byName.set(fn.name, fn);
    }
  }
  return [...byName.values()];
}

function functionAt(
  code: ReadonlyMap<number, CodeSection>,
  object: ObjectFile,
  target: CodeTarget,
): CodeFunction | string {
  const section = code.get(target.section);
  const name = object.elf.sections[target.section]?.name ?? `#${target.section}`;
  if (section === undefined) return `calls into section ${name}, which holds no code`;
  const index = section.indexOfSlot(target.slot);
  const fn = index < 0 ? undefined : section.functions.find((f) => f.first === index);
  return fn ?? `calls instruction ${target.slot} of ${name}, where no function starts`;
}

/** The `license` section's NUL-terminated string ('' without one). */
function readLicense(object: ObjectFile): string {
  const section = object.sectionsOf('license')[0];
  if (section === undefined) return '';
  const bytes = object.elf.data(section);
  const end = bytes.indexOf(0);
  return decodeName(bytes, 0, end < 0 ? bytes.length : end);
}

/** The `version` section's u32 (`LINUX_VERSION_CODE` for old kprobes), 0 without one. */
function readVersion(object: ObjectFile): number {
  const section = object.sectionsOf('version')[0];
  if (section === undefined) return 0;
  const bytes = object.elf.data(section);
  if (bytes.length !== 4)
    throw new ObjectError(`holds ${bytes.length} bytes; it must be one 4-byte kernel version`, {
      section: section.name,
    });
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, object.elf.littleEndian);
}
