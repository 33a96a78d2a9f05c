/**
 * Creating a map from a spec (`BpfMap.create`): check the spec, create the inner map a map-of-maps
 * needs, call BPF_MAP_CREATE, and word a refusal. An EINVAL is ambiguous (unknown type or bad
 * spec), so the type is probed once with its smallest valid spec to tell which; so is an EPERM
 * (no privilege, or a type this kernel bars even to root).
 */
import * as sys from '@ebpf/sys';
import type { HasFd } from '../codec/per-cpu.ts';
import {
  BpfError,
  isUnsupported,
  KernelRejectedError,
  NotSupportedError,
  PermissionError,
  translateSysError,
} from '../errors.ts';
import { features } from '../features/probes.ts';
import { KernelObject } from '../kernel-object.ts';
import type { MapTypeInfo } from './map-types.ts';
import { createMapFd } from './ops.ts';
import { type MapCreateOptions, type NormalizedMapSpec, normalizeSpec } from './spec.ts';

/** A new map fd from `spec`, and the checked spec it was created from. */
export function createFromSpec(spec: MapCreateOptions): { fd: number; spec: NormalizedMapSpec } {
  const norm = normalizeSpec(spec);
  let innerFd = -1;
  let ownedInnerFd = -1;
  const inner = spec.innerMap;
  if (inner !== undefined) {
    if (inner instanceof KernelObject || typeof (inner as HasFd).fd === 'number') {
      innerFd = (inner as HasFd).fd;
    } else {
      ownedInnerFd = createFromSpec(inner as MapCreateOptions).fd;
      innerFd = ownedInnerFd;
    }
  }
  try {
    return { fd: createMapFd(norm, innerFd), spec: norm };
  } catch (error) {
    throw createError(error, norm);
  } finally {
    if (ownedInnerFd >= 0) sys.close(ownedInnerFd);
  }
}

/** Words a BPF_MAP_CREATE failure. */
function createError(error: unknown, spec: NormalizedMapSpec): Error {
  const code = (error as { code?: string }).code;
  const what = `creating ${spec.typeLabel}${spec.name ? ` "${spec.name}"` : ''}`;
  const options = { cause: error };
  if (code === 'EINVAL' || isUnsupported(error)) {
    if (!spec.info || !probeMapType(spec.info)) {
      const since = spec.info ? ` (added in Linux ${spec.info.since})` : '';
      return new NotSupportedError(
        `map type ${spec.info?.name ?? spec.type}`,
        `the running kernel does not know ${spec.info?.cName ?? `map type ${spec.type}`}${since}`,
        options,
      );
    }
    return new KernelRejectedError(
      `${what}: the kernel refused the spec (EINVAL): keySize ${spec.keySize}, valueSize ${spec.valueSize}, maxEntries ${spec.maxEntries}, flags 0x${spec.flags.toString(16)}`,
      options,
    );
  }
  if (code === 'ENOMEM') {
    return new BpfError(
      `${what}: out of memory (ENOMEM): maxEntries ${spec.maxEntries} × valueSize ${spec.valueSize} is too much for the memory cgroup or RLIMIT_MEMLOCK`,
      options,
    );
  }
  if (code === 'E2BIG')
    return new KernelRejectedError(`${what}: sizes too large for this map type (E2BIG)`, options);
  if (code === 'EPERM' || code === 'EACCES') {
    // Privileged and still refused: the type itself is barred here (the probe says why).
    const probe = spec.info ? features.probeMapType(spec.info.type) : undefined;
    if (probe?.status === 'unsupported')
      return new NotSupportedError(probe.feature, probe.reason ?? '', { ...options, code });
    return new PermissionError(`${what}: permission denied (${code}); run as root or grant CAP_BPF`, options);
  }
  return translateSysError(error, what);
}

/**
 * Whether the kernel can create maps of this type at all, by the feature probe (cached). Only an
 * "unsupported" answer means no: a probe that cannot tell (no permission) leaves the spec to blame.
 */
function probeMapType(info: MapTypeInfo): boolean {
  return features.probeMapType(info.type).status !== 'unsupported';
}
