/**
 * The one feature-test mechanism: a named test runs once per process and its answer is cached.
 * An answer is `supported`, `unsupported` (with why) or `unknown`: the test could not tell, most
 * often for lack of privilege, and a later, privileged process may answer differently.
 */
import { readFileSync } from 'node:fs';

export type FeatureStatus = 'supported' | 'unsupported' | 'unknown';

/** What a feature test found, and why (a caveat when supported). */
export interface FeatureResult {
  readonly status: FeatureStatus;
  readonly reason?: string;
}

const results = new Map<string, FeatureResult>();

/** Runs the test called `name` the first time it is asked for; later calls get the cached answer. */
export function featureTest<T extends FeatureResult>(name: string, test: () => T): T {
  let result = results.get(name) as T | undefined;
  if (result === undefined) {
    result = Object.freeze(test());
    results.set(name, result);
  }
  return result;
}

/** The cached answer of `name`, without running anything (undefined when not asked yet). */
export function knownFeature(name: string): FeatureResult | undefined {
  return results.get(name);
}

/** Forgets every cached answer (after loading a kernel module, say). */
export function clearFeatureTests(): void {
  results.clear();
}

/** Capability numbers (`linux/capability.h`), by the name the kernel gives them. */
export const Capability = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39 } as const;
export type CapabilityName = keyof typeof Capability;

/** Whether `capabilities` (a set as {@link effectiveCapabilities} reads it) holds `name`. */
export function holdsCapability(capabilities: bigint, name: CapabilityName): boolean {
  return ((capabilities >> BigInt(Capability[name])) & 1n) === 1n;
}

/** The effective capability set of this process, from `/proc/self/status` (undefined if unreadable). */
export function effectiveCapabilities(status = readStatus()): bigint | undefined {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status ?? '')?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

function readStatus(): string | undefined {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return undefined;
  }
}

/** Whether this process may use bpf() at all: CAP_BPF or CAP_SYS_ADMIN in its effective set. */
export function mayUseBpf(capabilities = effectiveCapabilities()): boolean | undefined {
  if (capabilities === undefined) return undefined;
  return holdsCapability(capabilities, 'CAP_BPF') || holdsCapability(capabilities, 'CAP_SYS_ADMIN');
}
