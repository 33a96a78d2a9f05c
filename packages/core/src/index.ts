/**
 * @ebpf/core: eBPF maps, programs, links and feature probes for Node.js.
 * @packageDocumentation
 */
export * from './errors.ts';
export { KernelObject } from './kernel-object.ts';
export * from './codec/index.ts';
export * from './map/index.ts';
export * from './program/index.ts';
export * from './link/index.ts';
export * from './attach/index.ts';
export * from './features/index.ts';
