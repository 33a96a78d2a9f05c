/**
 * Externs the loader resolves from the running kernel, as libbpf does: `.kconfig` variables
 * written into the `.kconfig` map's bytes (LINUX_KERNEL_VERSION from uname, CONFIG_* from
 * /proc/config.gz or /boot/config-<release>; bool, tristate, integers and strings; weak ones
 * the kernel lacks stay 0), `.ksyms` kfunc calls given their vmlinux BTF id, and `.ksyms`
 * variables their BTF id (typed) or /proc/kallsyms address (untyped `void`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type Instruction, pseudoImm, resolveKfuncs } from '@ebpf/asm';
import type { Btf, Type } from '@ebpf/btf';
import type { ExternSpec, MapSpec, ProgramSpec } from '@ebpf/object';
import { BtfIntEncoding, PseudoSrc } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';
import { kernelVersion } from '../system.ts';

let kernelConfig: Map<string, string> | undefined;

/** The running kernel's build options (`CONFIG_X` → `y`, `m`, `n`, a number or a quoted string). */
export function readKernelConfig(): Map<string, string> {
  if (kernelConfig !== undefined) return kernelConfig;
  const boot = `/boot/config-${kernelVersion().release}`;
  let text: string;
  if (existsSync('/proc/config.gz')) text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  else if (existsSync(boot)) text = readFileSync(boot, 'utf8');
  else
    throw new NotFoundError(
      `the object reads kernel options (__kconfig) but neither /proc/config.gz nor ${boot} exists (load the configs module, or install the kernel's config)`,
    );
  kernelConfig = new Map();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) kernelConfig.set(set[1] as string, set[2] as string);
    const unset = /^# (CONFIG_\w+) is not set$/.exec(line);
    if (unset) kernelConfig.set(unset[1] as string, 'n');
  }
  return kernelConfig;
}

const TRISTATE: Record<string, number> = { n: 0, y: 1, m: 2 };

/** Writes `value` (a kconfig value) into `out` as the C type `type` of `size` bytes. */
function writeKconfig(name: string, value: string, type: Type, out: DataView): void {
  const fail = (what: string) =>
    new InvalidArgumentError(
      `kconfig extern ${name}: the kernel's value ${value} ${what}; fix the extern's type`,
    );
  if (type.kind === 'int' && type.encoding & BtfIntEncoding.Bool) {
    if (value !== 'y' && value !== 'n') throw fail('is not a bool (y or n)');
    out.setUint8(0, value === 'y' ? 1 : 0);
  } else if (type.kind === 'enum') {
    const tristate = TRISTATE[value];
    if (tristate === undefined) throw fail('is not a tristate (y, m or n)');
    out.setUint32(0, tristate, true);
  } else if (type.kind === 'array') {
    if (!value.startsWith('"')) throw fail('is not a string');
    const bytes = new TextEncoder().encode(value.slice(1, -1));
    const n = Math.min(bytes.length, out.byteLength - 1);
    for (let i = 0; i < n; i++) out.setUint8(i, bytes[i] as number);
  } else if (type.kind === 'int') {
    if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(value)) throw fail('is not an integer');
    const n = BigInt.asUintN(64, BigInt(value));
    for (let i = 0; i < out.byteLength; i++) out.setUint8(i, Number((n >> BigInt(8 * i)) & 0xffn));
  } else throw fail(`cannot be stored in a ${type.kind}`);
}

/** The `.kconfig` map's bytes with every kconfig extern filled in. */
export function kconfigData(map: MapSpec, externs: readonly ExternSpec[], btf: Btf): Uint8Array {
  const data = new Uint8Array(map.valueSize);
  for (const extern of externs) {
    if (extern.kind !== 'kconfig' || extern.offset === undefined) continue;
    const type = btf.resolve(extern.type.id);
    const size = btf.sizeof(extern.type.id);
    const view = new DataView(data.buffer, extern.offset, size);
    if (extern.name === 'LINUX_KERNEL_VERSION') {
      view.setUint32(0, kernelVersion().code, true);
      continue;
    }
    const value = extern.name.startsWith('CONFIG_') ? readKernelConfig().get(extern.name) : undefined;
    if (value === undefined) {
      if (extern.weak) continue;
      throw new NotFoundError(
        `kconfig extern ${extern.name} is not set in this kernel's config; declare it __weak to read 0 instead`,
      );
    }
    writeKconfig(extern.name, value, type, view);
  }
  return data;
}

let kallsyms: Map<string, bigint> | undefined;

/** An address from /proc/kallsyms (for untyped ksyms). */
function kallsymsAddress(name: string): bigint | undefined {
  if (kallsyms === undefined) {
    kallsyms = new Map();
    for (const line of readFileSync('/proc/kallsyms', 'utf8').split('\n')) {
      const [address, , symbol] = line.split(/\s+/);
      if (symbol !== undefined && !kallsyms.has(symbol)) kallsyms.set(symbol, BigInt(`0x${address}`));
    }
  }
  return kallsyms.get(name);
}

/** `program`'s instructions with kfunc calls and ksym variable loads pointing into the kernel. */
export function resolveKsyms(
  instructions: readonly Instruction[],
  program: ProgramSpec,
  externs: Readonly<Record<string, ExternSpec>>,
  kernel: Btf,
): readonly Instruction[] {
  const missing = (name: string) =>
    new NotFoundError(
      `program ${program.name}: the kernel has no ${name} (an extern __ksym); declare it __weak if it is optional`,
    );
  let out = instructions;
  if (instructions.some((insn) => insn.kfunc !== undefined)) {
    out = resolveKfuncs(instructions, (name) => {
      const id = kernel.typeByName(name, 'func')?.id;
      if (id === undefined && externs[name]?.weak !== true) throw missing(`function ${name}`);
      return id ?? 0;
    });
  }
  const ksyms = program.externReferences.filter((r) => externs[r.name]?.kind === 'ksym');
  if (ksyms.length === 0) return out;
  const patched = out.slice();
  for (const reference of ksyms) {
    const extern = externs[reference.name] as ExternSpec;
    const insn = patched[reference.insn] as Instruction;
    const typed = extern.type.kind !== 'void';
    const id = typed ? kernel.typeByName(extern.name, 'var')?.id : undefined;
    const address = typed ? undefined : kallsymsAddress(extern.name);
    if (id !== undefined) patched[reference.insn] = { ...insn, src: PseudoSrc.BtfId, imm: pseudoImm(id, 0) };
    else if (address !== undefined) patched[reference.insn] = { ...insn, src: 0, imm: address };
    else if (extern.weak) patched[reference.insn] = { ...insn, src: 0, imm: 0n };
    else throw missing(`variable ${extern.name}`);
  }
  return patched;
}
