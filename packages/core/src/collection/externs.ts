/**
 * Externs the loader resolves from the running kernel, as libbpf does: `.kconfig` variables
 * written into the `.kconfig` map's bytes (LINUX_KERNEL_VERSION from uname, LINUX_HAS_BPF_COOKIE
 * from a helper probe, CONFIG_* from
 * /proc/config.gz or /boot/config-<release>; bool, tristate, integers and strings; weak ones
 * the kernel lacks stay 0), `.ksyms` kfunc calls given their BTF id, and `.ksyms` variables
 * their BTF id (typed) or /proc/kallsyms address (untyped `void`). BTF names are looked up in
 * vmlinux, then in the loaded modules' split BTF, whose BTF object a kfunc call names by its
 * index in the load's `fd_array` (`off`) and a variable by its fd (the ldimm64's upper half).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type Instruction, pseudoImm, resolveKfuncs } from '@ebpf/asm';
import type { Btf, Type } from '@ebpf/btf';
import { moduleBtf } from '@ebpf/btf/node';
import type { ExternSpec, MapSpec, ProgramSpec } from '@ebpf/object';
import * as sys from '@ebpf/sys';
import { BtfIntEncoding, PseudoSrc } from '@ebpf/uapi';
import { InvalidArgumentError, NotFoundError, NotSupportedError } from '../errors.ts';
import { features } from '../features/probes.ts';
import { btfInfo, fdFromId, objectIds } from '../object-info.ts';
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

/**
 * The `LINUX_*` externs libbpf makes up instead of reading the kernel's config: the version,
 * and whether programs can read their BPF cookie (usdt.bpf.h picks its spec lookup by it).
 */
const libbpfValues: Readonly<Record<string, (out: DataView) => void>> = {
  LINUX_KERNEL_VERSION: (out) => out.setUint32(0, kernelVersion().code, true),
  LINUX_HAS_BPF_COOKIE: (out) => out.setUint8(0, features.helper('kprobe', 'bpf_get_attach_cookie') ? 1 : 0),
};

/** The `.kconfig` map's bytes with every kconfig extern filled in. */
export function kconfigData(map: MapSpec, externs: readonly ExternSpec[], btf: Btf): Uint8Array {
  const data = new Uint8Array(map.valueSize);
  for (const extern of externs) {
    if (extern.kind !== 'kconfig' || extern.offset === undefined) continue;
    const type = btf.resolve(extern.type.id);
    const size = btf.sizeof(extern.type.id);
    const view = new DataView(data.buffer, extern.offset, size);
    const made = libbpfValues[extern.name];
    if (made !== undefined) {
      made(view);
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

/** A kernel module's BTF (split on vmlinux's) and its BTF object's fd, opened on first use. */
export interface KernelModule {
  readonly name: string;
  readonly btf: Btf;
  fd(): number;
}

/** Where `.ksyms` names resolve: vmlinux's BTF, then the modules' (asked only when vmlinux lacks a name). */
export interface KernelSymbols {
  readonly vmlinux: Btf;
  modules(): readonly KernelModule[];
  /** The kallsyms address of `name` (0n when hidden), undefined when kallsyms does not list it. */
  address(name: string): bigint | undefined;
}

let moduleBtfs: ReadonlyMap<string, Btf> | undefined;

/**
 * The running kernel's symbols for one load: vmlinux, the loaded modules (`/sys/kernel/btf/<module>`,
 * read once per process) and kallsyms. The module BTF fds it opens stay open until `close()`,
 * after the programs naming them are loaded.
 */
export class RunningKernel implements KernelSymbols {
  readonly vmlinux: Btf;
  private readonly fds = new Map<string, number>();
  private list: KernelModule[] | undefined;

  constructor(vmlinux: Btf) {
    this.vmlinux = vmlinux;
  }

  modules(): readonly KernelModule[] {
    moduleBtfs ??= new Map(
      readdirSync('/sys/kernel/btf')
        .filter((name) => name !== 'vmlinux')
        .sort()
        .map((name) => [name, moduleBtf(name)]),
    );
    this.list ??= [...moduleBtfs].map(([name, btf]) => ({ name, btf, fd: () => this.fdOf(name) }));
    return this.list;
  }

  address(name: string): bigint | undefined {
    return kallsymsAddress(name);
  }

  close(): void {
    for (const fd of this.fds.values()) sys.close(fd);
    this.fds.clear();
  }

  /** The fd of module `name`'s BTF object: the kernel BTF object of that name. */
  private fdOf(name: string): number {
    const open = this.fds.get(name);
    if (open !== undefined) return open;
    for (const id of objectIds('btf')) {
      let fd: number;
      try {
        fd = fdFromId('btf', id);
      } catch (error) {
        if ((error as { code?: string }).code === 'ENOENT') continue;
        throw error;
      }
      let found = false;
      try {
        const info = btfInfo(fd);
        found = info.kernelBtf && info.name === name;
      } finally {
        if (!found) sys.close(fd);
      }
      if (found) {
        this.fds.set(name, fd);
        return fd;
      }
    }
    throw new NotFoundError(
      `module ${name} has BTF in /sys/kernel/btf but no BTF object in the kernel (unloaded?)`,
    );
  }
}

/** A BTF name found in the kernel: its type id and, outside vmlinux, the module it is in. */
interface Found {
  readonly id: number;
  readonly module?: KernelModule;
}

function findKernelType(kernel: KernelSymbols, name: string, kind: 'func' | 'var'): Found | undefined {
  const id = kernel.vmlinux.typeByName(name, kind)?.id;
  if (id !== undefined) return { id };
  for (const module of kernel.modules()) {
    const type = module.btf.typeByName(name, kind);
    if (type !== undefined) return { id: type.id, module };
  }
  return undefined;
}

/** A program's instructions with its `.ksyms` resolved, and the `fd_array` its kfunc calls index. */
export interface ResolvedKsyms {
  readonly instructions: readonly Instruction[];
  /** Module BTF fds at the indices kfunc calls carry in `off` (0: vmlinux); undefined without any. */
  readonly fdArray: readonly number[] | undefined;
}

/** `program`'s instructions with kfunc calls and ksym variable loads pointing into the kernel. */
export function resolveKsyms(
  instructions: readonly Instruction[],
  program: ProgramSpec,
  externs: Readonly<Record<string, ExternSpec>>,
  kernel: KernelSymbols,
): ResolvedKsyms {
  const missing = (name: string) =>
    new NotFoundError(
      `program ${program.name}: the kernel has no ${name} (an extern __ksym); declare it __weak if it is optional`,
    );
  // Index 0 stands for vmlinux: a kfunc call with off 0 is one of its functions.
  const fdArray: number[] = [0];
  const resolved = (instructions: readonly Instruction[]): ResolvedKsyms => ({
    instructions,
    fdArray: fdArray.length > 1 ? fdArray : undefined,
  });
  const indexOf = (module: KernelModule): number => {
    const fd = module.fd();
    const at = fdArray.indexOf(fd, 1);
    return at > 0 ? at : fdArray.push(fd) - 1;
  };
  let out = instructions;
  if (instructions.some((insn) => insn.kfunc !== undefined)) {
    out = resolveKfuncs(instructions, (name) => {
      const found = findKernelType(kernel, name, 'func');
      if (found === undefined && externs[name]?.weak !== true) throw missing(`function ${name}`);
      if (found?.module === undefined) return found?.id ?? 0;
      return { btfId: found.id, btfFdIndex: indexOf(found.module) };
    });
  }
  const ksyms = program.externReferences.filter((r) => externs[r.name]?.kind === 'ksym');
  if (ksyms.length === 0) return resolved(out);
  const patched = out.slice();
  for (const reference of ksyms) {
    const extern = externs[reference.name] as ExternSpec;
    const insn = patched[reference.insn] as Instruction;
    const typed = extern.type.kind !== 'void';
    const found = typed ? findKernelType(kernel, extern.name, 'var') : undefined;
    const address = kernel.address(extern.name);
    if (found !== undefined) {
      if (address === undefined) throw typedKsymUnsupported(program, extern.name);
      const fd = found.module?.fd() ?? 0;
      patched[reference.insn] = { ...insn, src: PseudoSrc.BtfId, imm: pseudoImm(found.id, fd) };
    } else if (!typed && address !== undefined) patched[reference.insn] = { ...insn, src: 0, imm: address };
    else if (extern.weak) patched[reference.insn] = { ...insn, src: 0, imm: 0n };
    else throw missing(`variable ${extern.name}`);
  }
  return resolved(patched);
}

/**
 * The verifier finds a typed ksym's address by its name in kallsyms (check_pseudo_btf_id), and
 * kallsyms lists kernel variables only with CONFIG_KALLSYMS_ALL: without it, the load fails.
 */
function typedKsymUnsupported(program: ProgramSpec, name: string): NotSupportedError {
  return new NotSupportedError(
    `typed __ksym variables (program ${program.name} reads ${name})`,
    `the verifier looks ${name}'s address up in kallsyms, which lists no variables in a kernel built without CONFIG_KALLSYMS_ALL; read it through a helper or a kfunc instead, or use a kernel with CONFIG_KALLSYMS_ALL=y`,
  );
}
