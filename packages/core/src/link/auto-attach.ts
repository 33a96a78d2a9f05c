import type { ProgramSpec } from '@ebpf/object';
import { InvalidArgumentError } from '../errors.ts';
import type { ProgramFunction } from '../program/replace-target.ts';
import { attachCgroup } from './cgroup.ts';
import { attachIter, type IterOptions } from './iter.ts';
import { attachKprobe, syscallFunction } from './kprobe.ts';
import { attachKprobeMulti } from './kprobe-multi.ts';
import type { Link, TypedProgram } from './link.ts';
import { attachNetfilter, type NetfilterOptions } from './netfilter.ts';
import { attachNetns } from './netns.ts';
import { attachPerfEvent, type PerfEventOptions } from './perf-event.ts';
import { attachRawTracepoint } from './raw-tracepoint.ts';
import { attachTcx, type TcxDirection } from './tcx.ts';
import { attachTracepoint } from './tracepoint.ts';
import { attachTracing } from './tracing.ts';
import { attachUprobe } from './uprobe.ts';
import { attachUprobeMulti } from './uprobe-multi.ts';
import { attachUsdt, type UsdtMaps } from './usdt.ts';
import { attachXdp } from './xdp.ts';

/**
 * Auto-attach: what a program's section (as libbpf names them) says about where it goes, turned
 * into one attach call. `planAttach` is pure (spec + options → plan, or an error naming the option
 * a section needs); `attachPlanned` makes the call. Collections wire both to `coll.attach()`.
 */

/** What sections cannot say: where on this machine to attach. */
export interface AutoAttachOptions {
  /** `xdp`, `tc`, `tcx`: the interface (name or index). */
  readonly interface?: string | number;
  /** `cgroup*`, `sockops`...: the cgroup (path or fd). */
  readonly cgroup?: string | number;
  /** `sk_lookup`, `flow_dissector`: the network namespace (path, `ip netns` name or fd). */
  readonly netns?: string | number;
  /** `netfilter`: the hook. */
  readonly netfilter?: NetfilterOptions;
  /** `perf_event`: the event to sample. */
  readonly perfEvent?: PerfEventOptions;
  /** `iter/...`: the iterator's target. */
  readonly iter?: IterOptions;
  /** `kprobe.multi`, `uprobe.multi`: the functions (sections give patterns, not lists). */
  readonly symbols?: readonly string[];
  /** Probes: only this process. */
  readonly pid?: number;
  /** What `bpf_get_attach_cookie()` returns, where the hook takes one (for `usdt`: `bpf_usdt_cookie()`). */
  readonly cookie?: number | bigint;
  /** `freplace`: another program's function to replace than the one the program was loaded against. */
  readonly replace?: ProgramFunction;
  /** A bare `usdt` section: the probe (a `usdt/PATH:PROVIDER:NAME` section names it). */
  readonly usdt?: UsdtProbe;
  /** `usdt`: usdt.bpf.h's maps, when the program is not a collection's (`coll.attach()` passes its own). */
  readonly usdtMaps?: UsdtMaps;
}

/** A USDT probe of a binary or library: `PROVIDER:NAME` in `path`. */
export interface UsdtProbe {
  readonly path: string;
  readonly provider: string;
  readonly name: string;
}

/** One attach call, as data. */
export type AttachPlan =
  | { readonly hook: 'xdp'; readonly iface: string | number }
  | { readonly hook: 'tcx'; readonly iface: string | number; readonly direction: TcxDirection }
  | { readonly hook: 'cgroup'; readonly cgroup: string | number; readonly attachType: string | undefined }
  | { readonly hook: 'tracepoint'; readonly category: string; readonly name: string }
  | { readonly hook: 'raw_tracepoint'; readonly name: string }
  | { readonly hook: 'tracing' }
  | { readonly hook: 'iter'; readonly options: IterOptions }
  | { readonly hook: 'kprobe'; readonly fn: string; readonly offset: number; readonly returnProbe: boolean }
  | { readonly hook: 'kprobe_multi'; readonly symbols: readonly string[]; readonly returnProbe: boolean }
  | {
      readonly hook: 'uprobe';
      readonly path: string;
      readonly symbol: string | undefined;
      readonly offset: number;
      readonly returnProbe: boolean;
    }
  | {
      readonly hook: 'uprobe_multi';
      readonly path: string;
      readonly symbols: readonly string[];
      readonly returnProbe: boolean;
    }
  | ({ readonly hook: 'usdt' } & UsdtProbe)
  | { readonly hook: 'perf_event'; readonly options: PerfEventOptions }
  | { readonly hook: 'netns'; readonly netns: string | number }
  | { readonly hook: 'netfilter'; readonly options: NetfilterOptions };

/** The part of a spec auto-attach reads. */
export type AttachableSpec = Pick<ProgramSpec, 'name' | 'section' | 'type' | 'attachType' | 'attachTo'>;

const cgroupTypes = new Set([
  'cgroup_skb',
  'cgroup_sock',
  'cgroup_sock_addr',
  'sock_ops',
  'cgroup_device',
  'cgroup_sysctl',
  'cgroup_sockopt',
]);

/** The section after its first `/` (`tp/syscalls/sys_enter_openat` → `syscalls/sys_enter_openat`). */
function sectionTarget(spec: AttachableSpec): string {
  if (spec.attachTo !== undefined && spec.attachTo !== '') return spec.attachTo;
  const slash = spec.section.indexOf('/');
  return slash < 0 ? '' : spec.section.slice(slash + 1);
}

/** Throws an `InvalidArgumentError` saying which option section `spec` needs. */
function needs<T>(spec: AttachableSpec, option: string, value: T | undefined, why: string): T {
  if (value !== undefined) return value;
  throw new InvalidArgumentError(
    `program ${spec.name} (section '${spec.section}') needs the '${option}' option to attach: ${why}`,
  );
}

/** `func+0x10` → ['func', 16]; `func` → ['func', 0]. */
function splitOffset(spec: AttachableSpec, text: string): [string, number] {
  const match = /^([^+]*)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(text);
  if (!match)
    throw new InvalidArgumentError(`section '${spec.section}': cannot read '${text}' as function[+offset]`);
  return [match[1]!, match[2] === undefined ? 0 : Number(match[2])];
}

/** `uprobe/PATH:FUNC+OFF` (libbpf's form; PATH may start with `/`, as in `uprobe//proc/self/exe:f`). */
function uprobeTarget(spec: AttachableSpec, target: string): { path: string; where: string } {
  const colon = target.lastIndexOf(':');
  if (colon <= 0)
    throw new InvalidArgumentError(
      `section '${spec.section}' does not say where to probe: write it as uprobe/PATH:FUNCTION[+OFFSET]`,
    );
  return { path: target.slice(0, colon), where: target.slice(colon + 1) };
}

/** The program types whose section says where they attach (the others attach elsewhere: sockets, test runs). */
const sectionAttachedTypes = new Set([
  'xdp',
  'sched_cls',
  ...cgroupTypes,
  'tracepoint',
  'raw_tracepoint',
  'raw_tracepoint_writable',
  'tracing',
  'lsm',
  'ext',
  'kprobe',
  'perf_event',
  'sk_lookup',
  'flow_dissector',
  'netfilter',
]);

/** Types whose section attaches only when it names the target: a bare `kprobe` or `tp` is for manual attach. */
const targetNamingTypes = new Set(['kprobe', 'tracepoint', 'raw_tracepoint', 'raw_tracepoint_writable']);

/** The tcx direction a `sched_cls` section names (`tcx/egress`, `tc/ingress`); undefined for a bare `tc`. */
function tcxDirectionOf(spec: AttachableSpec): TcxDirection | undefined {
  if (/(^|\/)egress$/.test(spec.section)) return 'egress';
  return /(^|\/)ingress$/.test(spec.section) ? 'ingress' : undefined;
}

/** Whether the section says enough to attach without the caller naming the hook. */
function sectionNamesHook(spec: AttachableSpec): boolean {
  if (targetNamingTypes.has(spec.type)) return sectionTarget(spec) !== '';
  if (spec.type === 'sched_cls') return tcxDirectionOf(spec) !== undefined;
  if (cgroupTypes.has(spec.type)) return spec.attachType !== undefined;
  return mapEntryXdp(spec) === undefined;
}

/**
 * Whether `spec`'s section says where its program attaches (what `coll.attachAll()` attaches).
 * Sections that name no hook (`SEC("kprobe")`, `SEC("raw_tp")`, `SEC("tc")`, `SEC("cgroup/skb")`)
 * and `xdp/devmap` programs are, as in libbpf, left for the caller to attach.
 */
export function attachesFromSection(spec: AttachableSpec): boolean {
  return sectionAttachedTypes.has(spec.type) && sectionNamesHook(spec);
}

/** The map an `xdp/devmap` or `xdp/cpumap` program runs from (not an interface), or undefined. */
function mapEntryXdp(spec: AttachableSpec): string | undefined {
  if (spec.type !== 'xdp') return undefined;
  return spec.attachType === 'xdp_devmap'
    ? 'devmap'
    : spec.attachType === 'xdp_cpumap'
      ? 'cpumap'
      : undefined;
}

/** Where the program of `spec` attaches, from its section and type and `options`. */
export function planAttach(spec: AttachableSpec, options: AutoAttachOptions = {}): AttachPlan {
  const prefix = spec.section.split('/')[0]!.replace(/^\?/, '');
  const target = sectionTarget(spec);
  const map = mapEntryXdp(spec);
  if (map !== undefined)
    throw new InvalidArgumentError(
      `program ${spec.name} (section '${spec.section}') runs from ${map} entries, not on an interface: put its fd in the entry's value (bpf_prog.fd of struct bpf_${map}_val)`,
    );
  if (spec.type === 'xdp')
    return { hook: 'xdp', iface: needs(spec, 'interface', options.interface, 'which interface XDP runs on') };
  if (spec.type === 'sched_cls') {
    if (spec.attachType?.startsWith('netkit'))
      throw new InvalidArgumentError(
        `program ${spec.name} (section '${spec.section}') goes on a netkit device: netkit links are not supported yet`,
      );
    const dir = needs(
      spec,
      'direction in the section',
      tcxDirectionOf(spec),
      'name it tcx/ingress or tcx/egress (or tc/...)',
    );
    return {
      hook: 'tcx',
      iface: needs(spec, 'interface', options.interface, 'which interface tcx hooks'),
      direction: dir,
    };
  }
  // lsm_cgroup programs run for the processes of one cgroup: they attach to it.
  if (cgroupTypes.has(spec.type) || spec.attachType === 'lsm_cgroup')
    return {
      hook: 'cgroup',
      cgroup: needs(spec, 'cgroup', options.cgroup, 'which cgroup (path or fd) the program applies to'),
      attachType: spec.attachType,
    };
  switch (spec.type) {
    case 'tracepoint': {
      const [category, name] = target.split('/');
      if (!category || !name)
        throw new InvalidArgumentError(
          `section '${spec.section}' does not name a tracepoint: write it as tp/CATEGORY/NAME`,
        );
      return { hook: 'tracepoint', category, name };
    }
    case 'raw_tracepoint':
    case 'raw_tracepoint_writable':
      if (!target)
        throw new InvalidArgumentError(`section '${spec.section}' does not name a tracepoint: raw_tp/NAME`);
      return { hook: 'raw_tracepoint', name: target };
    case 'tracing':
      if (spec.attachType === 'trace_iter') return { hook: 'iter', options: options.iter ?? {} };
      return { hook: 'tracing' };
    case 'lsm':
    case 'ext':
      return { hook: 'tracing' };
    case 'kprobe':
      return probePlan(spec, prefix, target, options);
    case 'perf_event':
      return {
        hook: 'perf_event',
        options: needs(spec, 'perfEvent', options.perfEvent, 'which event ({ type, config, ... }) to sample'),
      };
    case 'sk_lookup':
    case 'flow_dissector':
      return {
        hook: 'netns',
        netns: needs(spec, 'netns', options.netns, 'which network namespace (path, name or fd)'),
      };
    case 'netfilter':
      return {
        hook: 'netfilter',
        options: needs(spec, 'netfilter', options.netfilter, 'the hook ({ pf, hooknum, priority })'),
      };
    default:
      throw new InvalidArgumentError(
        `program ${spec.name} (section '${spec.section}', type ${spec.type}) cannot be attached from its section: attach it with the attach function of its hook`,
      );
  }
}

function probePlan(
  spec: AttachableSpec,
  prefix: string,
  target: string,
  options: AutoAttachOptions,
): AttachPlan {
  const returnProbe = /ret/.test(prefix);
  // The sleepable forms (`uprobe.s`, `uprobe.multi.s`, `usdt.s`) attach as the others.
  switch (prefix.replace(/\.s$/, '')) {
    case 'kprobe':
    case 'kretprobe': {
      const [fn, offset] = splitOffset(spec, target);
      if (!fn)
        throw new InvalidArgumentError(
          `section '${spec.section}' does not name a kernel function: kprobe/FUNCTION`,
        );
      return { hook: 'kprobe', fn, offset, returnProbe };
    }
    case 'ksyscall':
    case 'kretsyscall':
      if (!/^\w+$/.test(target))
        throw new InvalidArgumentError(
          `section '${spec.section}' does not name a system call: ksyscall/NAME`,
        );
      return { hook: 'kprobe', fn: syscallFunction(target), offset: 0, returnProbe };
    case 'kprobe.multi':
    case 'kretprobe.multi':
    case 'kprobe.session':
      return {
        hook: 'kprobe_multi',
        symbols: needs(spec, 'symbols', options.symbols, `the functions matching '${target}', listed`),
        returnProbe,
      };
    case 'uprobe':
    case 'uretprobe': {
      const { path, where } = uprobeTarget(spec, target);
      // `PATH:0x1234` is a file offset; `PATH:FUNCTION[+OFFSET]` a function.
      if (/^(0x[0-9a-fA-F]+|\d+)$/.test(where))
        return { hook: 'uprobe', path, symbol: undefined, offset: Number(where), returnProbe };
      const [fn, offset] = splitOffset(spec, where);
      return { hook: 'uprobe', path, symbol: fn, offset, returnProbe };
    }
    case 'uprobe.multi':
    case 'uretprobe.multi':
    case 'uprobe.session': {
      const { path, where } = uprobeTarget(spec, target);
      return {
        hook: 'uprobe_multi',
        path,
        // A pattern needs the matching functions listed; a plain name is the one function.
        symbols: needs(
          spec,
          'symbols',
          options.symbols ?? (/[*?]/.test(where) ? undefined : [where]),
          `the functions matching '${where}', listed`,
        ),
        returnProbe,
      };
    }
    case 'usdt':
      return { hook: 'usdt', ...usdtProbe(spec, target, options) };
    default:
      throw new InvalidArgumentError(
        `section '${spec.section}' of kprobe program ${spec.name} names no probe (kprobe/, uprobe/, ...)`,
      );
  }
}

/** `usdt/PATH:PROVIDER:NAME` (libbpf's form), or for a bare `usdt` the `usdt` option. */
function usdtProbe(spec: AttachableSpec, target: string, options: AutoAttachOptions): UsdtProbe {
  if (target === '')
    return needs(
      spec,
      'usdt',
      options.usdt,
      'which probe ({ path, provider, name }) a bare usdt section attaches to',
    );
  const match = /^([^:]+):([^:]+):([^:]+)$/.exec(target);
  if (!match)
    throw new InvalidArgumentError(
      `section '${spec.section}' does not name a USDT probe: write it as usdt/PATH:PROVIDER:NAME`,
    );
  return { path: match[1]!, provider: match[2]!, name: match[3]! };
}

const cookieOf = (options: AutoAttachOptions) =>
  options.cookie === undefined ? {} : { cookie: options.cookie };
const pidOf = (options: AutoAttachOptions) => (options.pid === undefined ? {} : { pid: options.pid });

/** Makes the attach call `plan` describes. */
export function attachPlanned(
  program: TypedProgram,
  plan: AttachPlan,
  options: AutoAttachOptions = {},
): Link {
  switch (plan.hook) {
    case 'xdp':
      return attachXdp(program, plan.iface);
    case 'tcx':
      return attachTcx(program, plan.iface, { direction: plan.direction });
    case 'cgroup':
      return attachCgroup(program, plan.cgroup, plan.attachType as never);
    case 'tracepoint':
      return attachTracepoint(program, plan.category, plan.name, cookieOf(options));
    case 'raw_tracepoint':
      return attachRawTracepoint(program, plan.name, cookieOf(options));
    case 'tracing':
      return attachTracing(program, {
        ...cookieOf(options),
        ...(options.replace === undefined ? {} : { replace: options.replace }),
      });
    case 'iter':
      return attachIter(program, plan.options);
    case 'kprobe':
      return attachKprobe(program, plan.fn, {
        offset: plan.offset,
        returnProbe: plan.returnProbe,
        ...cookieOf(options),
      });
    case 'kprobe_multi':
      return attachKprobeMulti(program, { symbols: plan.symbols, returnProbe: plan.returnProbe });
    case 'uprobe':
      return attachUprobe(program, plan.path, {
        ...(plan.symbol === undefined ? {} : { symbol: plan.symbol }),
        offset: plan.offset,
        returnProbe: plan.returnProbe,
        ...pidOf(options),
        ...cookieOf(options),
      });
    case 'uprobe_multi':
      return attachUprobeMulti(program, {
        path: plan.path,
        symbols: plan.symbols,
        returnProbe: plan.returnProbe,
        ...pidOf(options),
      });
    case 'usdt':
      return attachUsdt(program, {
        path: plan.path,
        provider: plan.provider,
        name: plan.name,
        // Checked by attachUsdt, whose error says where the maps come from.
        maps: options.usdtMaps as UsdtMaps,
        ...pidOf(options),
        ...cookieOf(options),
      });
    case 'perf_event':
      return attachPerfEvent(program, plan.options);
    case 'netns':
      return attachNetns(program, plan.netns);
    case 'netfilter':
      return attachNetfilter(program, plan.options);
  }
}
