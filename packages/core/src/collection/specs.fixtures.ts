/**
 * Specs written by hand the way `@ebpf/object` describes an ELF object, for tests of the loader
 * that should not depend on clang: each helper fills the fields a test does not care about.
 */
import type { Instruction } from '@ebpf/asm';
import type { Type } from '@ebpf/btf';
import type { MapSpec, ProgramSpec, VariableSpec } from '@ebpf/object';

export const mapSpec = (spec: Partial<MapSpec> & Pick<MapSpec, 'name' | 'type'>): MapSpec => ({
  kernelName: spec.name.replace(/^\./, 'test.').slice(0, 15),
  keySize: 4,
  valueSize: 4,
  maxEntries: 1,
  flags: 0,
  pinning: 'none',
  contents: [],
  ...spec,
});

export const programSpec = (
  name: string,
  instructions: readonly Instruction[],
  extra: Partial<ProgramSpec> = {},
): ProgramSpec => ({
  name,
  section: 'xdp',
  type: 'xdp',
  attachType: undefined,
  attachTo: undefined,
  instructions,
  license: 'GPL',
  kernelVersion: 0,
  flags: 0,
  autoload: true,
  funcInfo: [],
  lineInfo: [],
  coreRelocations: [],
  externReferences: [],
  ...extra,
});

/** A variable of `type` (`size` bytes) at `offset` in `section`; its spec-side get/set are not used by the loader. */
export const variableSpec = (
  name: string,
  section: string,
  offset: number,
  type: Type,
  size: number,
): VariableSpec => ({
  name,
  section,
  offset,
  size,
  type,
  get: () => undefined,
  set: () => undefined,
});
