/**
 * BTF objects the kernel holds, by id: what `ebpf btf show` lists and `ebpf btf dump <id>` reads.
 * Imported only by commands that touch the kernel (it loads the native binding).
 */
import { Btf, type Type, type TypeId, type Var } from '@ebpf/btf';
import { BpfMap, BpfProgram, BtfHandle, kernelBtf, objectIds, readObjectInfo } from '@ebpf/core';

/** A BTF object as `ebpf btf show` prints it (bpftool's fields). */
export interface BtfSummary {
  id: number;
  /** `vmlinux` or a module's name for kernel BTF; empty for BTF a loader brought. */
  name: string;
  size: number;
  kernel: boolean;
  /** Programs and maps that use it (not listed for kernel BTF, which nearly everything uses). */
  progIds: number[];
  mapIds: number[];
}

/** Every BTF object, or one by id, with the programs and maps that name it. */
export function listBtf(only?: number): BtfSummary[] {
  const ids = only === undefined ? [...objectIds('btf')] : [only];
  const summaries = new Map<number, BtfSummary>();
  for (const id of ids) {
    try {
      using handle = BtfHandle.fromId(id);
      const { name, size, kernelBtf: kernel } = handle.info();
      summaries.set(id, { id, name, size, kernel, progIds: [], mapIds: [] });
    } catch (error) {
      // One that went away while listing is not an error; one asked for by id is.
      if (only !== undefined || (error as Error).name !== 'NotFoundError') throw error;
    }
  }
  for (const p of BpfProgram.list()) summaries.get(p.btfId)?.progIds.push(p.id);
  for (const m of BpfMap.list()) summaries.get(m.btfId)?.mapIds.push(m.id);
  return [...summaries.values()];
}

/** Reads and parses the BTF object `id`: a module's is split on the kernel's own. */
export function btfById(id: number): Btf {
  using handle = BtfHandle.fromId(id);
  const info = handle.info();
  const bytes = new Uint8Array(info.size);
  readObjectInfo(handle.fd, 'btf', { btf: bytes, btfSize: bytes.length });
  const split = info.kernelBtf && info.name !== 'vmlinux';
  return Btf.parse(bytes, split ? { base: kernelBtf() } : {});
}

/** A program's function, as its func_info and BTF describe it. */
export interface ProgFunction {
  /** Index of its first instruction in the translated program. */
  insn: number;
  name: string;
  /** Its C prototype: `int count_packets(struct xdp_md *ctx)`. */
  proto: string;
}

/** Bytes of one `bpf_func_info` record: the instruction offset and the `Func`'s type id. */
const funcInfoSize = 8;

/**
 * The functions of the program open at `fd` (the main one first, then its subprograms), from
 * the func_info the kernel keeps and the program's BTF `btf`.
 */
export function programFunctions(fd: number, nrFuncInfo: number, btf: Btf): ProgFunction[] {
  if (nrFuncInfo === 0) return [];
  const records = new Uint8Array(nrFuncInfo * funcInfoSize);
  readObjectInfo(fd, 'prog', { nrFuncInfo, funcInfoRecSize: funcInfoSize, funcInfo: records });
  const view = new DataView(records.buffer);
  return Array.from({ length: nrFuncInfo }, (_, i) => {
    const func = btf.typeById(view.getUint32(i * funcInfoSize + 4, true));
    const insn = view.getUint32(i * funcInfoSize, true);
    if (func.kind !== 'func')
      return { insn, name: '', proto: `(type ${func.id} is a ${func.kind}, not a function)` };
    return { insn, name: func.name, proto: cPrototype(btf, func.name, func.proto) };
  });
}

/** `int name(struct xdp_md *ctx)` from a `FuncProto`. */
function cPrototype(btf: Btf, name: string, protoId: TypeId): string {
  const proto = btf.typeById(protoId);
  if (proto.kind !== 'func_proto') return name;
  const declare = (type: TypeId, declared: string) => {
    const spelled = btf.nameOf(type);
    return declared === '' ? spelled : `${spelled}${spelled.endsWith('*') ? '' : ' '}${declared}`;
  };
  const params = proto.params.map((p) => (p.type === 0 ? '...' : declare(p.type, p.name)));
  return `${declare(proto.returns, name)}(${params.join(', ') || 'void'})`;
}

/** Longest map name the kernel keeps (BPF_OBJ_NAME_LEN less its NUL): longer C names are cut. */
const maxMapName = 15;

/** The variables a map of this kernel name can be (any whose name it cuts, at the kernel's limit). */
function variablesNamed(btf: Btf, name: string): Var[] {
  const isVar = (type: Type): type is Var => type.kind === 'var';
  if (name.length < maxMapName) return btf.typesByName(name, 'var').filter(isVar);
  const found: Var[] = [];
  for (let id = btf.firstId; id < btf.nextId; id++) {
    const type = btf.typeById(id);
    if (isVar(type) && type.name.startsWith(name)) found.push(type);
  }
  return found;
}

/**
 * The value type of a map that cannot carry BTF itself (the kernel refuses BTF on queues and
 * stacks, which have no key): the `__type(value, ...)` of its `.maps` definition in the BTF of a
 * program that uses it, found by the map's name and checked against its value size.
 */
export function valueTypeFromPrograms(map: {
  id: number;
  name: string;
  valueSize: number;
}): { btf: Btf; typeId: TypeId } | undefined {
  if (map.name === '') return undefined;
  const program = BpfProgram.list().find((p) => p.btfId !== 0 && p.mapIds.includes(map.id));
  if (program === undefined) return undefined;
  const btf = btfById(program.btfId);
  for (const variable of variablesNamed(btf, map.name)) {
    const definition = btf.resolve(variable.type);
    if (definition.kind !== 'struct') continue;
    const value = definition.members.find((m) => m.name === 'value');
    const pointer = value && btf.resolve(value.type);
    if (pointer?.kind === 'ptr' && btf.sizeof(pointer.target) === map.valueSize)
      return { btf, typeId: pointer.target };
  }
  return undefined;
}
