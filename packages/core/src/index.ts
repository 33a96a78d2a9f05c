/**
 * @ebpf/core: eBPF maps, programs, links and feature probes for Node.js.
 *
 * @example
 * Load an object built by clang, attach its XDP program, read a map:
 * ```ts
 * import { attachXdp, Collection } from '@ebpf/core';
 *
 * using collection = Collection.load('xdp_counter.bpf.o');
 * using link = attachXdp(collection.programs.count_packets!, 'lo', { mode: 'generic' });
 * console.log(collection.maps.counts!.get(new Uint8Array(4)));
 * ```
 *
 * @packageDocumentation
 */

export type {
  ExternSpec,
  MapContent,
  MapPinning,
  MapSpec,
  ProgramSpec,
  VariableSpec,
} from '@ebpf/object';
export { ObjectError } from '@ebpf/object';
export * from './btf/index.ts';
export * from './codec/index.ts';
export * from './collection/index.ts';
export * from './errors.ts';
export * from './events/index.ts';
export * from './features/index.ts';
export { KernelObject } from './kernel-object.ts';
export * from './link/index.ts';
export * from './map/index.ts';
export {
  type BtfInfo,
  btfInfo,
  decodeLayout,
  fdFromId,
  type InfoField,
  type LinkInfo,
  linkInfo,
  type MapInfo,
  mapInfo,
  objectIds,
  type ProgInfo,
  progInfo,
  type RawInfo,
  readObjectInfo,
} from './object-info.ts';
export {
  defaultBpffsPath,
  ensureBpffs,
  getPinned,
  kindOfFd,
  type ObjectKind,
  PinnableObject,
  pinObject,
  unpinPath,
  validatePinPath,
} from './pin.ts';
export * from './program/index.ts';
