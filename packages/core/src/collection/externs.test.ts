/**
 * `.ksyms` in module BTF: kfuncs and typed variables a module's split BTF declares reach the
 * load as libbpf passes them (kfunc `off` = the module's index in `fd_array`, a variable's
 * ldimm64 upper half = the module BTF's fd). Built BTF stands in for vmlinux and the module.
 */
import { type Instruction, PseudoCall, splitImm } from '@ebpf/asm';
import { Btf, BtfBuilder } from '@ebpf/btf';
import type { ExternSpec, ProgramSpec } from '@ebpf/object';
import { buildObject, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { BtfFuncLinkage, BtfVarLinkage, PseudoSrc } from '@ebpf/uapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NotFoundError, NotSupportedError } from '../errors.ts';
import { intType } from './btf-kinds.ts';
import { type KernelModule, type KernelSymbols, resolveKsyms } from './externs.ts';
import { CollectionSpec } from './spec.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());
let program: ProgramSpec;
let externs: Record<string, ExternSpec>;
beforeAll(() => {
  requireTools();
  const spec = CollectionSpec.fromFile(buildObject(scratch, 'module-ksyms', 'bpfel'));
  program = spec.programs.calls_module as ProgramSpec;
  externs = { ...spec.externs };
});

/** A vmlinux with `int` only, and a module split on it declaring the object's kfunc and variable. */
function kernelWithModule(listed: boolean): KernelSymbols & { kfunc: number; counter: number } {
  const base = new BtfBuilder();
  const int = base.add(intType);
  const vmlinux = Btf.parse(base.marshal());
  const b = new BtfBuilder({ base: vmlinux });
  const proto = b.add({ kind: 'func_proto', name: '', returns: int, params: [{ name: 'x', type: int }] });
  const kfunc = b.add({
    kind: 'func',
    name: 'ebpf_test_module_kfunc',
    proto,
    linkage: BtfFuncLinkage.Global,
  });
  const counter = b.add({
    kind: 'var',
    name: 'ebpf_test_module_counter',
    type: int,
    linkage: BtfVarLinkage.GlobalAllocated,
  });
  const module: KernelModule = {
    name: 'ebpf_test',
    btf: Btf.parse(b.marshal(), { base: vmlinux }),
    fd: () => 42,
  };
  return {
    vmlinux,
    modules: () => [module],
    address: (name) => (listed && name === 'ebpf_test_module_counter' ? 0n : undefined),
    kfunc,
    counter,
  };
}

it('finds a kfunc in module BTF and names the module by its fd_array index', () => {
  const kernel = kernelWithModule(true);
  const { instructions, fdArray } = resolveKsyms(program.instructions, program, externs, kernel);
  const call = instructions.find((i) => i.src === PseudoCall.KfuncCall && i.op === 0x85) as Instruction;
  expect({ imm: call.imm, off: call.off }).toEqual({ imm: kernel.kfunc, off: 1 });
  // Index 0 stands for vmlinux; the module's fd is named once.
  expect(fdArray).toEqual([0, 42]);
});

it('points a typed ksym of a module at its BTF id and the module BTF fd', () => {
  const kernel = kernelWithModule(true);
  const { instructions } = resolveKsyms(program.instructions, program, externs, kernel);
  const reference = program.externReferences.find((r) => r.name === 'ebpf_test_module_counter');
  const load = instructions[reference?.insn ?? -1] as Instruction;
  expect(load.src).toBe(PseudoSrc.BtfId);
  expect(splitImm(load.imm as bigint)).toEqual([kernel.counter, 42]);
});

it('refuses a typed ksym kallsyms does not list with a NotSupportedError naming CONFIG_KALLSYMS_ALL', () => {
  const kernel = kernelWithModule(false);
  expect(() => resolveKsyms(program.instructions, program, externs, kernel)).toThrow(NotSupportedError);
  expect(() => resolveKsyms(program.instructions, program, externs, kernel)).toThrow(/CONFIG_KALLSYMS_ALL/);
});

it('says which kfunc no BTF declares', () => {
  const kernel = { ...kernelWithModule(true), modules: () => [] };
  expect(() => resolveKsyms(program.instructions, program, externs, kernel)).toThrow(NotFoundError);
  expect(() => resolveKsyms(program.instructions, program, externs, kernel)).toThrow(
    /has no function ebpf_test_module_kfunc/,
  );
});
