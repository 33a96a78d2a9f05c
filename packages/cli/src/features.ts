/**
 * `ebpf feature`: what the running kernel supports, through `@ebpf/core`'s probes.
 */
import { helperName } from '@ebpf/asm';
import { features } from '@ebpf/core';
import { cNameOf, FuncId, LinkType, MapType, ProgType } from '@ebpf/uapi';
import { CliError, ExitCode, privilegeAdvice } from './exit-codes.ts';

/** What `ebpf feature --json` prints. */
export interface FeatureReport {
  kernel: string;
  programTypes: Record<string, boolean>;
  mapTypes: Record<string, boolean>;
  /** Link types this build knows (the kernel has no cheap probe for them). */
  linkTypes: string[];
  /** Helpers each supported program type may call, when probed. */
  helpers?: Record<string, string[]>;
  /**
   * Program types whose helpers could not be probed, with the reason: the kernel refuses any
   * program of these types before looking at its calls (struct_ops needs an attach target,
   * syscall programs must be sleepable), so a helper list for them would mean nothing.
   */
  helpersNotProbed?: Record<string, string>;
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
  checkCanProbe();
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
    const notProbed: Record<string, string> = {};
    const types = options.progType
      ? [knownProgramType(options.progType, programTypes)]
      : supported(programTypes);
    const ids = [...new Set(Object.values(FuncId as Record<string, number>))]
      .filter((id) => id > 0)
      .sort((a, b) => a - b);
    for (const type of types) {
      const why = unprobeable(type);
      if (why !== undefined) {
        notProbed[type] = why;
        continue;
      }
      helpers[type] = [];
      for (const id of ids) {
        const name = helperName(id);
        if (name !== undefined && probe(() => f.helper(type as never, name))) helpers[type].push(name);
      }
    }
    report.helpers = helpers;
    if (Object.keys(notProbed).length > 0) report.helpersNotProbed = notProbed;
  }
  return report;
}

function supported(record: Record<string, boolean>): string[] {
  return Object.keys(record).filter((name) => record[name]);
}

function knownProgramType(name: string, programTypes: Record<string, boolean>): string {
  if (!(name in programTypes))
    throw new CliError(
      `unknown program type '${name}' (one of: ${Object.keys(programTypes).join(', ')})`,
      ExitCode.Usage,
    );
  if (!programTypes[name]) {
    const reason = features.probeProgramType(name as never).reason ?? 'not supported';
    throw new CliError(`the kernel cannot load ${name} programs: ${reason}`, ExitCode.NotSupported);
  }
  return name;
}

/** Why helper probes say nothing for `type`, or undefined when they can be trusted (core decides). */
function unprobeable(type: string): string | undefined {
  const answer = features.canProbeHelpers(type as never);
  return answer.supported ? undefined : answer.reason;
}

/** Throws what to do when the probes cannot even create an array map (no privileges). */
function checkCanProbe(): void {
  const array = features.probeMapType('array');
  if (array.supported) return;
  if (features.mayUseBpf() === false)
    throw new CliError(
      'cannot probe the kernel: without CAP_BPF (or root) it refuses to create even an array map',
      ExitCode.NoPermission,
      privilegeAdvice,
    );
  throw new CliError(`cannot probe the kernel: ${array.reason ?? 'creating an array map failed'}`);
}
