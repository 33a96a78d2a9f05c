import { call } from '@ebpf/asm';
import * as sys from '@ebpf/sys';
import { AttachType, cNameOf, FuncId, ProgLoadFlags, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError, NotSupportedError, PermissionError } from '../errors.ts';
import { clearFeatureTests, type FeatureStatus, featureTest, mayUseBpf } from '../internal/feature.ts';
import { linkTypeName } from '../link/link.ts';
import { findMapType, type MapTypeInfo, type SizeRule } from '../map/map-types.ts';
import { createMapFd } from '../map/ops.ts';
import { type MapCreateOptions, normalizeSpec } from '../map/spec.ts';
import { encodeInstructions, returnZero } from '../program/instructions.ts';
import { minimalProgram, type ProbeOutcome, probeLoad } from '../program/probe-load.ts';
import { type ProgramTypeLike, programTypeName, resolveProgramType } from '../program/types.ts';
import { type KernelVersion, kernelVersion, type LockdownMode, lockdownMode, pageSize } from '../system.ts';
import { type LinkProbeOutcome, probedLinkTypes, runLinkProbe, structOpsMapErrno } from './link-probes.ts';

/** The answer of a probe: whether the kernel has the feature, and why not when it has not. */
export interface FeatureProbe {
  /** What was probed, in words: 'map type ringbuf', 'helper bpf_ringbuf_output for xdp programs'. */
  readonly feature: string;
  /** True only when the probe showed the feature works; false when it does not, or cannot tell. */
  readonly supported: boolean;
  /** `unknown` when the probe could not tell (no privilege to try): `supported` is then false. */
  readonly status: FeatureStatus;
  /** Why not (or a caveat when supported), in words. */
  readonly reason?: string;
}

/** What a probe function returns: `status` follows from `supported` unless it says `unknown`. */
type Answer = Omit<FeatureProbe, 'status'> & { readonly status?: 'unknown' };

function cached(key: string, probe: () => Answer): FeatureProbe {
  return featureTest(key, () => {
    const answer = probe();
    return { ...answer, status: answer.status ?? (answer.supported ? 'supported' : 'unsupported') };
  });
}

/**
 * The answer to an EPERM: without CAP_BPF or CAP_SYS_ADMIN the probe cannot tell; with them,
 * kernel lockdown (or a security module) refuses the feature. Lockdown bars program and link
 * kinds, never a map type: a map type refused to root is reported as just that.
 */
function refused(feature: string, what: string, byLockdown = true): Answer {
  if (mayUseBpf() !== true) {
    return {
      feature,
      supported: false,
      status: 'unknown',
      reason: `cannot tell: permission denied for ${what} (run as root, or grant CAP_BPF with CAP_PERFMON/CAP_NET_ADMIN)`,
    };
  }
  const lockdown = lockdownMode();
  if (byLockdown && lockdown !== undefined && lockdown !== 'none')
    return { feature, supported: false, reason: `refused by kernel lockdown (${lockdown})` };
  return { feature, supported: false, reason: `the kernel refused ${what} with EPERM although privileged` };
}

// ----- maps -----------------------------------------------------------------------------------

function pick(rule: SizeRule, fallback: number): number {
  if ('exactly' in rule) return rule.exactly;
  if ('oneOf' in rule) return rule.oneOf[0] ?? fallback;
  return Math.max(rule.min, Math.min(fallback, rule.max ?? fallback));
}

/** The smallest spec `BpfMap.create` accepts for maps of this type. */
function probeSpec(info: MapTypeInfo, innerMap: number | undefined): MapCreateOptions {
  const maxEntries = info.maxEntries === 'zero' ? 0 : info.maxEntries === 'ring' ? pageSize() : 1;
  return {
    type: info.type,
    keySize: pick(info.keySize, 4),
    valueSize: pick(info.valueSize, 4),
    maxEntries,
    flags: info.requiredFlags,
    ...(innerMap === undefined ? {} : { innerMap: { fd: innerMap } }),
  };
}

/** Creates a map the way `BpfMap.create` does (BTF for local storage included) and returns its fd. */
function createProbeMap(spec: MapCreateOptions, innerMap = -1): number {
  return createMapFd(normalizeSpec(spec), innerMap);
}

function probeMap(type: string | number): Answer {
  const info = findMapType(type);
  const name = info?.name ?? (typeof type === 'number' ? `${type}` : type);
  const feature = `map type ${name}`;
  if (info === undefined && typeof type !== 'number') {
    throw new InvalidArgumentError(`unknown map type '${type}'`);
  }
  if (info?.name === 'struct_ops') {
    const code = structOpsMapErrno(0);
    if (code === 'EPERM') return refused(feature, 'creating a struct_ops map');
    return code === 'ENOTSUPP'
      ? { feature, supported: true, reason: 'the kernel looked the value type up in its BTF' }
      : { feature, supported: false, reason: `the kernel refused to create one (${code})` };
  }
  const toClose: number[] = [];
  try {
    let inner: number | undefined;
    if (info?.needsInnerMap) {
      inner = createProbeMap({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      toClose.push(inner);
    }
    const spec = info
      ? probeSpec(info, inner)
      : { type: type as number, keySize: 4, valueSize: 4, maxEntries: 1 };
    toClose.push(createProbeMap(spec, inner));
    return { feature, supported: true };
  } catch (error) {
    if (!(error instanceof sys.SysError)) throw error;
    const code = error.code;
    if (code === 'EPERM' || code === 'EACCES') return refused(feature, `creating ${name} maps`, false);
    if (code === 'EINVAL' || code === 'ENOTSUPP' || code === 'EOPNOTSUPP') {
      return {
        feature,
        supported: false,
        reason: `the kernel refused to create one (${code}): too old or compiled out`,
      };
    }
    return { feature, supported: false, reason: `creating a probe map failed with ${code}` };
  } finally {
    for (const fd of toClose) sys.close(fd);
  }
}

function kernelAtLeast(major: number, minor: number): boolean {
  const v = kernelVersion();
  return v.major > major || (v.major === major && v.minor >= minor);
}

// ----- programs -------------------------------------------------------------------------------

/** Expected attach types the probe programs of some types need, and when the types appeared. */
function probeAttachType(type: number): number | undefined {
  switch (type) {
    case ProgType.CgroupSockAddr:
      return AttachType.CgroupInet4Connect;
    case ProgType.CgroupSockopt:
      return AttachType.CgroupGetsockopt;
    case ProgType.SkLookup:
      return AttachType.SkLookup;
    case ProgType.Netfilter:
      return AttachType.Netfilter;
    case ProgType.Tracing:
      return AttachType.TraceFentry;
    case ProgType.Lsm:
      return AttachType.LsmMac;
    default:
      return undefined;
  }
}

/** Types whose probe needs a BTF attach target: EINVAL then only means "no target given". */
const needsTarget: Record<number, [number, number]> = {
  [ProgType.Tracing]: [5, 5],
  [ProgType.StructOps]: [5, 6],
  [ProgType.Ext]: [5, 6],
  [ProgType.Lsm]: [5, 7],
};

/** Syscall programs are only accepted sleepable. */
function probeFlags(type: number): number {
  return type === ProgType.Syscall ? ProgLoadFlags.Sleepable : 0;
}

function tryLoad(type: number, insns: Uint8Array): ProbeOutcome {
  return probeLoad(type, insns, { expectedAttachType: probeAttachType(type), flags: probeFlags(type) });
}

function probeProgram(type: ProgramTypeLike | number): Answer {
  const value = resolveProgramType(type);
  const name = programTypeName(value);
  const feature = `program type ${name}`;
  const outcome = tryLoad(value, minimalProgram);
  if (outcome.ok) return { feature, supported: true };
  if (outcome.code === 'EPERM') return refused(feature, `loading ${name} programs`);
  if (outcome.log.trim() !== '')
    return { feature, supported: true, reason: 'the verifier ran the probe program' };
  const since = needsTarget[value];
  if (since !== undefined && outcome.code === 'EINVAL') {
    const supported = kernelAtLeast(since[0], since[1]);
    return supported
      ? {
          feature,
          supported,
          reason: `known since Linux ${since[0]}.${since[1]}; loading needs an attach target`,
        }
      : { feature, supported, reason: `needs Linux ${since[0]}.${since[1]}` };
  }
  return {
    feature,
    supported: false,
    reason: `the kernel does not know this program type (${outcome.code})`,
  };
}

// ----- helpers --------------------------------------------------------------------------------

let helperIds: Map<string, number> | undefined;

/** A helper id from `bpf_ringbuf_output`, `ringbuf_output`, `RingbufOutput` or the number. */
function resolveHelper(helper: string | number): { id: number; name: string } {
  if (typeof helper === 'number') {
    const cName = cNameOf(FuncId as never, helper as never) as string | undefined;
    return { id: helper, name: cName ? `bpf_${cName.replace(/^BPF_FUNC_/, '')}` : `helper #${helper}` };
  }
  if (helperIds === undefined) {
    helperIds = new Map();
    for (const [key, id] of Object.entries(FuncId) as [string, number][]) {
      if (typeof id !== 'number') continue;
      helperIds.set(key, id);
      const cName = cNameOf(FuncId as never, id as never) as string | undefined;
      if (cName) {
        const snake = cName.replace(/^BPF_FUNC_/, '');
        helperIds.set(snake, id);
        helperIds.set(`bpf_${snake}`, id);
      }
    }
  }
  const id = helperIds.get(helper);
  if (id === undefined) throw new InvalidArgumentError(`unknown helper '${helper}'`);
  return { id, name: helper.startsWith('bpf_') ? helper : resolveHelper(id).name };
}

const helperMissing = /invalid func |unknown func |cannot use helper|cannot call GPL-restricted/;

/** `call id; r0 = 0; exit`: the verifier checks the helper exists for the type before its arguments. */
function helperCallProgram(id: number): Uint8Array {
  return encodeInstructions([call(id), ...returnZero], {});
}

/** A helper id no kernel has: the control question that tells whether helper probes mean anything. */
const noSuchHelper = 0x7fff_ffff;

/**
 * Why helper probes say nothing for programs of `type`, or undefined when they can be trusted:
 * the kernel must refuse a call of a helper that does not exist. Types it refuses for another
 * reason first (struct_ops, tracing, ext and lsm need an attach target) would make every helper
 * look available.
 */
function helpersUnprobeable(type: number): string | undefined {
  const key = `helper-control:${type}`;
  const control = cached(key, () => {
    const outcome = tryLoad(type, helperCallProgram(noSuchHelper));
    const meaningful = !outcome.ok && outcome.log.split('\n').some((l) => helperMissing.test(l));
    return meaningful
      ? { feature: key, supported: true }
      : {
          feature: key,
          supported: false,
          reason: `helpers of ${programTypeName(type)} programs cannot be probed: the kernel refuses a probe program of this type before it looks at its calls (${outcome.ok ? 'it accepted a call of a helper that does not exist' : `${outcome.code}, it needs an attach target or special load flags`})`,
        };
  });
  return control.supported ? undefined : control.reason;
}

function probeHelper(type: ProgramTypeLike | number, helper: string | number): Answer {
  const value = resolveProgramType(type);
  const { id, name } = resolveHelper(helper);
  const typeName = programTypeName(value);
  const feature = `helper ${name} for ${typeName} programs`;
  const programProbe = features.probeProgramType(value);
  if (!programProbe.supported) {
    const reason = `${programProbe.feature}: ${programProbe.reason}`;
    return programProbe.status === 'unknown'
      ? { feature, supported: false, status: 'unknown', reason }
      : { feature, supported: false, reason };
  }
  const unprobeable = helpersUnprobeable(value);
  if (unprobeable !== undefined) return { feature, supported: false, reason: unprobeable };
  const outcome = tryLoad(value, helperCallProgram(id));
  if (outcome.ok) return { feature, supported: true };
  if (outcome.code === 'EPERM') return refused(feature, `loading ${typeName} programs`);
  const line = outcome.log.split('\n').find((l) => helperMissing.test(l));
  if (line !== undefined) return { feature, supported: false, reason: `the verifier says: ${line.trim()}` };
  if (outcome.log.trim() === '') {
    return {
      feature,
      supported: false,
      reason: `the probe could not run (${outcome.code}, no verifier log)`,
    };
  }
  return { feature, supported: true };
}

// ----- links ----------------------------------------------------------------------------------

function probeLink(type: string | number): Answer {
  const name = typeof type === 'number' ? linkTypeName(type) : type;
  if (!probedLinkTypes.has(name)) throw new InvalidArgumentError(`unknown link type '${String(type)}'`);
  return linkAnswer(`link type ${name}`, runLinkProbe(name));
}

function linkAnswer(feature: string, outcome: LinkProbeOutcome): Answer {
  if (outcome.step === 'setup') {
    if (outcome.code === 'EPERM') return refused(feature, outcome.what);
    return {
      feature,
      supported: false,
      status: 'unknown',
      reason: `cannot tell: ${outcome.what} for the probe failed (${outcome.code})`,
    };
  }
  if (outcome.code === 'EPERM') return refused(feature, 'creating the link');
  return outcome.known
    ? { feature, supported: true }
    : {
        feature,
        supported: false,
        reason: outcome.refusal ?? `the kernel refused the attach type (${outcome.code})`,
      };
}

// ----- the public face ------------------------------------------------------------------------

function require(probe: FeatureProbe): void {
  if (probe.status === 'unknown')
    throw new PermissionError(`cannot tell whether ${probe.feature} is supported: ${probe.reason ?? ''}`);
  if (!probe.supported) throw new NotSupportedError(probe.feature, probe.reason ?? 'not supported');
}

/**
 * What the running kernel can do, found out by trying (creating a tiny map, loading a tiny
 * program) and cached for the life of the process. Each question has three forms:
 * `mapType('ringbuf')` → boolean, `probeMapType('ringbuf')` → the answer with its reason, and
 * `requireMapType('ringbuf')`, which throws a `NotSupportedError` naming the feature and why.
 */
export const features = Object.freeze({
  /** Whether maps of this type can be created (`'ringbuf'`, `'hash'`, or a `MapType` value). */
  mapType(type: string | number): boolean {
    return features.probeMapType(type).supported;
  },
  /** The probe's full answer for a map type. */
  probeMapType(type: string | number): FeatureProbe {
    return cached(`map:${findMapType(type)?.name ?? String(type)}`, () => probeMap(type));
  },
  /** Throws `NotSupportedError` unless maps of this type can be created. */
  requireMapType(type: string | number): void {
    require(features.probeMapType(type));
  },

  /** Whether programs of this type can be loaded (`'xdp'`, or a `ProgType` value). */
  programType(type: ProgramTypeLike | number): boolean {
    return features.probeProgramType(type).supported;
  },
  /** The probe's full answer for a program type. */
  probeProgramType(type: ProgramTypeLike | number): FeatureProbe {
    return cached(`prog:${resolveProgramType(type)}`, () => probeProgram(type));
  },
  /** Throws `NotSupportedError` unless programs of this type can be loaded. */
  requireProgramType(type: ProgramTypeLike | number): void {
    require(features.probeProgramType(type));
  },

  /** Whether programs of `type` may call `helper` (`'bpf_ringbuf_output'`, `'ringbuf_output'` or a `FuncId`). */
  helper(type: ProgramTypeLike | number, helper: string | number): boolean {
    return features.probeHelper(type, helper).supported;
  },
  /** The probe's full answer for a helper. */
  probeHelper(type: ProgramTypeLike | number, helper: string | number): FeatureProbe {
    return cached(`helper:${resolveProgramType(type)}:${resolveHelper(helper).id}`, () =>
      probeHelper(type, helper),
    );
  },
  /** Throws `NotSupportedError` unless programs of `type` may call `helper`. */
  requireHelper(type: ProgramTypeLike | number, helper: string | number): void {
    require(features.probeHelper(type, helper));
  },
  /**
   * Whether helper probes can answer for programs of `type` at all: the kernel refuses probe
   * programs of some types (struct_ops, and tracing, ext and lsm without an attach target) before
   * it looks at their calls. Where it does, `helper()` answers false and says why.
   */
  canProbeHelpers(type: ProgramTypeLike | number): FeatureProbe {
    const value = resolveProgramType(type);
    const reason = helpersUnprobeable(value);
    const feature = `helper probes for ${programTypeName(value)} programs`;
    return reason === undefined
      ? { feature, supported: true, status: 'supported' }
      : { feature, supported: false, status: 'unsupported', reason };
  },

  /**
   * Whether the kernel has links of this type (`'xdp'`, `'perf_event'`, or a `LinkType` value): a
   * probe program is linked to a target that does not exist, and the kernel's refusal tells.
   */
  linkType(type: string | number): boolean {
    return features.probeLinkType(type).supported;
  },
  /** The answer for a link type, with its reason. */
  probeLinkType(type: string | number): FeatureProbe {
    return cached(`link:${typeof type === 'number' ? linkTypeName(type) : type}`, () => probeLink(type));
  },
  /** Throws `NotSupportedError` unless the kernel has links of this type. */
  requireLinkType(type: string | number): void {
    require(features.probeLinkType(type));
  },

  /** The running kernel's version (`uname -r`, parsed). */
  kernelVersion(): KernelVersion {
    return kernelVersion();
  },
  /** The kernel lockdown mode, `undefined` when it cannot be read (securityfs not mounted). */
  lockdown(): LockdownMode | undefined {
    return lockdownMode();
  },
  /** Whether this process holds CAP_BPF or CAP_SYS_ADMIN (`CapEff`), `undefined` when it cannot tell. */
  mayUseBpf(): boolean | undefined {
    return mayUseBpf();
  },
  /** Forgets every cached answer (after loading a kernel module, say). */
  clearCache(): void {
    clearFeatureTests();
  },
});
