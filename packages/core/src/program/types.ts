import { AttachType, cNameOf, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';

/**
 * Program types by their kernel name without the `BPF_PROG_TYPE_` prefix, lower case
 * (`BPF_PROG_TYPE_SOCKET_FILTER` is `'socket_filter'`). `'tc'` is accepted for `'sched_cls'`.
 */
export type ProgramTypeName =
  | 'socket_filter'
  | 'kprobe'
  | 'sched_cls'
  | 'tc'
  | 'sched_act'
  | 'tracepoint'
  | 'xdp'
  | 'perf_event'
  | 'cgroup_skb'
  | 'cgroup_sock'
  | 'lwt_in'
  | 'lwt_out'
  | 'lwt_xmit'
  | 'sock_ops'
  | 'sk_skb'
  | 'cgroup_device'
  | 'sk_msg'
  | 'raw_tracepoint'
  | 'cgroup_sock_addr'
  | 'lwt_seg6local'
  | 'lirc_mode2'
  | 'sk_reuseport'
  | 'flow_dissector'
  | 'cgroup_sysctl'
  | 'raw_tracepoint_writable'
  | 'cgroup_sockopt'
  | 'tracing'
  | 'struct_ops'
  | 'ext'
  | 'lsm'
  | 'sk_lookup'
  | 'syscall'
  | 'netfilter';

/** A program type: its name or its `ProgType` value. */
export type ProgramTypeLike = ProgramTypeName | ProgType;

/**
 * Attach types by their kernel name without the `BPF_` prefix, lower case (`BPF_CGROUP_INET_INGRESS`
 * is `'cgroup_inet_ingress'`, `BPF_TRACE_FENTRY` is `'trace_fentry'`, `BPF_XDP` is `'xdp'`).
 */
export type AttachTypeName = string;

/** An attach type: its name or its `AttachType` value. */
export type AttachTypeLike = AttachTypeName | AttachType;

function nameTable(values: Record<string, number>, enumObject: object, prefix: string): Map<string, number> {
  const table = new Map<string, number>();
  for (const value of Object.values(values)) {
    if (typeof value !== 'number') continue;
    const cName = cNameOf(enumObject as never, value as never) as string | undefined;
    if (cName?.startsWith(prefix)) table.set(cName.slice(prefix.length).toLowerCase(), value);
  }
  return table;
}

let progTypes: Map<string, number> | undefined;
let progTypeNames: Map<number, string> | undefined;
let attachTypes: Map<string, number> | undefined;
let attachTypeNames: Map<number, string> | undefined;

function progTypeTable(): Map<string, number> {
  if (progTypes === undefined) {
    progTypes = nameTable(ProgType as unknown as Record<string, number>, ProgType, 'BPF_PROG_TYPE_');
    progTypes.delete('unspec');
    progTypeNames = new Map([...progTypes].map(([name, value]) => [value, name]));
    progTypes.set('tc', ProgType.SchedCls);
  }
  return progTypes;
}

function attachTypeTable(): Map<string, number> {
  if (attachTypes === undefined) {
    attachTypes = nameTable(AttachType as unknown as Record<string, number>, AttachType, 'BPF_');
    attachTypeNames = new Map([...attachTypes].map(([name, value]) => [value, name]));
  }
  return attachTypes;
}

/** The `ProgType` value of a program type given by name or value; throws on an unknown name. */
export function resolveProgramType(type: ProgramTypeLike | number): ProgType {
  if (typeof type === 'number') {
    if (!Number.isInteger(type) || type <= 0)
      throw new InvalidArgumentError(`type: ${type} is not a program type`);
    return type as ProgType;
  }
  const value = progTypeTable().get(type);
  if (value === undefined) {
    throw new InvalidArgumentError(
      `type: unknown program type '${type}' (known: ${[...progTypeTable().keys()].join(', ')})`,
    );
  }
  return value as ProgType;
}

/** The name of a program type (`'xdp'`), or `'type N'` for a value newer than this library. */
export function programTypeName(type: number): string {
  progTypeTable();
  return progTypeNames?.get(type) ?? `type ${type}`;
}

/** The `AttachType` value of an attach type given by name or value; throws on an unknown name. */
export function resolveAttachType(type: AttachTypeLike | number): AttachType {
  if (typeof type === 'number') {
    if (!Number.isInteger(type) || type < 0)
      throw new InvalidArgumentError(`attachType: ${type} is not an attach type`);
    return type as AttachType;
  }
  const value = attachTypeTable().get(type);
  if (value === undefined) throw new InvalidArgumentError(`attachType: unknown attach type '${type}'`);
  return value as AttachType;
}

/** The name of an attach type (`'cgroup_inet_ingress'`), or `'attach type N'` when unknown. */
export function attachTypeName(type: number): string {
  attachTypeTable();
  return attachTypeNames?.get(type) ?? `attach type ${type}`;
}

/**
 * The expected attach type the kernel needs at load time for a program type, when the caller
 * gave none: `undefined` when the type does not need one, `null` when it needs one we cannot
 * choose (the caller must say which, e.g. cgroup_sock_addr: connect4 or bind6?).
 */
export function defaultExpectedAttachType(type: ProgType): AttachType | null | undefined {
  switch (type) {
    case ProgType.SkLookup:
      return AttachType.SkLookup;
    case ProgType.Netfilter:
      return AttachType.Netfilter;
    case ProgType.CgroupSockAddr:
    case ProgType.CgroupSockopt:
    case ProgType.Tracing:
    case ProgType.Lsm:
      return null;
    default:
      return undefined;
  }
}
