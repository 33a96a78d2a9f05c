/**
 * Valid inputs the fuzzer mutates: raw BTF with a type of every kind (made with BtfBuilder), and
 * the `.BTF`/`.BTF.ext` of a clang-16 object (tools/test-utils/objects/btf-ext.c).
 */
import { execFileSync } from 'node:child_process';
import { buildObject, readBytes, type Scratch } from '@ebpf/test-utils/clang';
import { BtfFuncLinkage, BtfIntEncoding, BtfVarLinkage } from '@ebpf/uapi';
import { Btf, BtfBuilder } from '../src/index.ts';

export const OBJCOPY = 'llvm-objcopy-16';

/** The bytes of section `name` of the object at `path`, as llvm-objcopy dumps them. */
export function dumpSection(scratch: Scratch, path: string, name: string): Uint8Array {
  const out = scratch.path(`${path.split('/').pop()}.${name}`);
  execFileSync(OBJCOPY, [`--dump-section=${name}=${out}`, path, scratch.path('discard.o')]);
  return readBytes(out);
}

/** `.BTF` and `.BTF.ext` of btf-ext.c built for `target`, and the object's path. */
export function objectCorpus(scratch: Scratch, target: 'bpfel' | 'bpfeb' = 'bpfel') {
  const path = buildObject(scratch, 'btf-ext', target);
  return {
    path,
    btf: Btf.parse(dumpSection(scratch, path, '.BTF')),
    ext: dumpSection(scratch, path, '.BTF.ext'),
  };
}

/** Raw BTF holding one type of every kind, referring to each other, including a typedef loop. */
export function rawCorpus(): Uint8Array {
  const b = new BtfBuilder();
  const member = (name: string, type: number, bitOffset: number, bitfieldSize = 0) => ({
    name,
    type,
    bitOffset,
    bitfieldSize,
  });
  const long = b.add({
    kind: 'int',
    name: 'long',
    size: 8,
    encoding: BtfIntEncoding.Signed,
    bitOffset: 0,
    bits: 64,
  });
  const s = b.add({
    kind: 'struct',
    name: 's',
    size: 24,
    members: [member('a', long, 0), member('b', long, 67, 3), member('next', long + 2, 128)],
  });
  const ptr = b.add({ kind: 'ptr', name: '', target: s });
  const array = b.add({ kind: 'array', name: '', element: ptr, index: long, count: 4 });
  b.add({ kind: 'union', name: 'u', size: 32, members: [member('x', array, 0), member('y', long, 0)] });
  b.add({ kind: 'enum', name: 'e', size: 4, signed: true, values: [{ name: 'NEG', value: -1 }] });
  b.add({ kind: 'enum64', name: 'e64', size: 8, signed: false, values: [{ name: 'BIG', value: 1n << 40n }] });
  b.add({ kind: 'fwd', name: 'later', union: false });
  const loop = b.nextId;
  b.add({ kind: 'typedef', name: 'loop_a', target: loop + 1 });
  b.add({ kind: 'typedef', name: 'loop_b', target: loop });
  b.add({ kind: 'volatile', name: '', target: long });
  const constant = b.add({ kind: 'const', name: '', target: ptr });
  b.add({ kind: 'restrict', name: '', target: constant });
  b.add({ kind: 'type_tag', name: 'user', target: long });
  const proto = b.add({ kind: 'func_proto', name: '', returns: long, params: [{ name: 'p', type: ptr }] });
  const func = b.add({ kind: 'func', name: 'f', proto, linkage: BtfFuncLinkage.Global });
  const v = b.add({ kind: 'var', name: 'v', type: long, linkage: BtfVarLinkage.GlobalAllocated });
  b.add({ kind: 'datasec', name: '.data', size: 8, vars: [{ type: v, offset: 0, size: 8 }] });
  b.add({ kind: 'float', name: 'double', size: 8 });
  b.add({ kind: 'decl_tag', name: 'tag', target: func, componentIndex: 0 });
  return b.marshal();
}
