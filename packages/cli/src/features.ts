/**
 * `ebpf feature`: what the running kernel supports, through `@ebpf/core`'s probes.
 */
import { helperName } from '@ebpf/asm';
import { features } from '@ebpf/core';
import { cNameOf, FuncId, LinkType, MapType, ProgType } from '@ebpf/uapi';

/** What `ebpf feature --json` prints. */
export interface FeatureReport {
  kernel: string;
  programTypes: Record<string, boolean>;
  mapTypes: Record<string, boolean>;
  /** Link types this build knows (the kernel has no cheap probe for them). */
  linkTypes: string[];
  /** Helpers each supported program type may call, when probed. */
  helpers?: Record<string, string[]>;
}

function names(table: object, prefix: string): string[] {
  const out: string[] = [];
  for (const value of new Set(Object.values(table as Record<string, number>))) {
    if (typeof value !== 'number') continue;
    const c = cNameOf(table as never, value as never) as string | undefined;
    if (!c?.startsWith(prefix)) continue;
    const name = c.slice(prefix.length).toLowerCase();
    if (name !== 'unspec' && !name.startsWith('max') && !name.endsWith('_deprecated')) out.push(name);
  }
  return out;
}

function probe(fn: () => unknown): boolean {
  try {
    const r = fn();
    return (
      r === true || (typeof r === 'object' && r !== null && (r as { supported?: boolean }).supported === true)
    );
  } catch (error) {
    // Unsupported, or a type this build of @ebpf/core has no rules for: either way, not usable.
    if ((error as Error).name === 'NotSupportedError' || (error as Error).name === 'InvalidArgumentError')
      return false;
    throw error;
  }
}

/** Probes program types, map types and (unless `helpers` is false) helpers per program type. */
export function probeFeatures(options: { helpers: boolean; progType?: string }): FeatureReport {
  const f = features;
  const programTypes: Record<string, boolean> = {};
  for (const name of names(ProgType, 'BPF_PROG_TYPE_'))
    programTypes[name] = probe(() => f.programType(name as never));
  const mapTypes: Record<string, boolean> = {};
  for (const name of names(MapType, 'BPF_MAP_TYPE_')) mapTypes[name] = probe(() => f.mapType(name));
  const report: FeatureReport = {
    kernel: f.kernelVersion().release,
    programTypes,
    mapTypes,
    linkTypes: names(LinkType, 'BPF_LINK_TYPE_'),
  };
  if (options.helpers) {
    const helpers: Record<string, string[]> = {};
    const types = options.progType
      ? [options.progType]
      : Object.keys(programTypes).filter((t) => programTypes[t]);
    const ids = [...new Set(Object.values(FuncId as Record<string, number>))]
      .filter((id) => id > 0)
      .sort((a, b) => a - b);
    for (const type of types) {
      helpers[type] = [];
      for (const id of ids) {
        const name = helperName(id);
        if (name !== undefined && probe(() => f.helper(type as never, name))) helpers[type].push(name);
      }
    }
    report.helpers = helpers;
  }
  return report;
}
