import * as sys from '@ebpf/sys';
import { AttrBuffer, Cmd, FuncInfo, LineInfo, ProgLoadAttr } from '@ebpf/uapi';
import {
  BpfError,
  InvalidArgumentError,
  NotSupportedError,
  PermissionError,
  translateSysError,
} from '../errors.ts';
import { features } from '../features/probes.ts';
import { lockdownMode } from '../system.ts';
import { cString, logText } from './c-strings.ts';
import { capabilitiesToLoad, missingCapabilities } from './capabilities.ts';
import { programTypeName } from './types.ts';
import { VerifierError } from './verifier-error.ts';

/** The kernel refuses log buffers larger than `UINT32_MAX >> 2` bytes. */
export const maxLogSize = 0x3fff_ffff;
/** The kernel refuses log buffers smaller than this. */
const minLogSize = 128;
/** The first buffer for a retry with logging: most rejections fit, bigger logs grow it. */
const firstLogSize = 64 * 1024;

/** Log levels: `1` the walk of the failing path, `2` every instruction, `4` statistics only. */
export type LogLevel = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Everything `BPF_PROG_LOAD` needs, already resolved to kernel values. */
export interface ResolvedLoad {
  readonly type: number;
  readonly bytecode: Uint8Array;
  readonly license: string;
  readonly name: string;
  readonly expectedAttachType: number | undefined;
  readonly attachBtfId: number | undefined;
  readonly attachBtfObjFd: number | undefined;
  readonly attachProgFd: number | undefined;
  readonly flags: number;
  readonly kernelVersion: number;
  readonly logLevel: number;
  readonly logSize: number | undefined;
  readonly fdArray: Uint8Array | undefined;
  /** The program's BTF fd with its encoded func_info and line_info records, when it has BTF. */
  readonly btf?:
    | {
        readonly fd: number;
        readonly funcInfo?: Uint8Array | undefined;
        readonly lineInfo?: Uint8Array | undefined;
      }
    | undefined;
  /** How errors name what was loaded: 'fentry', 'program type xdp'... */
  readonly feature: string;
}

/** What a successful load gives back: the fd and, when logging was asked for, the log. */
export interface LoadResult {
  readonly fd: number;
  readonly log: string | undefined;
}

/** The last license loaded, as bytes: a process loads with one or two licenses, each load reuses it. */
let licenseText = '';
let licenseBytes: Uint8Array = new Uint8Array(1);
function licenseCString(text: string): Uint8Array {
  if (text !== licenseText) {
    licenseBytes = cString(text);
    licenseText = text;
  }
  return licenseBytes;
}

/**
 * The first try's log buffer, allocated once and reused by every load that asks for a log no
 * bigger than it: a fresh 64 KiB buffer per load cost more than the rest of the library's work
 * (calloc, zeroing, the kernel faulting its pages in, and external-memory GC pressure). Loads are
 * synchronous and the text is decoded into a string before the call returns, so nothing aliases
 * it. Bigger logs and the grown buffers of ENOSPC retries are allocated per load.
 */
let sharedLog: Uint8Array | undefined;
function logBuffer(size: number): Uint8Array {
  if (size > firstLogSize) return new Uint8Array(new ArrayBuffer(size));
  sharedLog ??= new Uint8Array(new ArrayBuffer(firstLogSize));
  const log = size === firstLogSize ? sharedLog : sharedLog.subarray(0, size);
  // The kernel NUL-terminates what it writes; this keeps a log it did not write from reading as
  // the previous load's.
  log[0] = 0;
  return log;
}

/** One attr for every load (loads are synchronous); its pointers are cleared after each call. */
let sharedAttr: AttrBuffer<typeof ProgLoadAttr> | undefined;

const hasField = (field: string) => field in ProgLoadAttr.fields;

/**
 * Calls `BPF_PROG_LOAD`. The first try has logging off unless the caller asked for a log (cheap
 * and fast); when the kernel refuses, the load is retried with logging on and the buffer grows
 * until the whole log fits (the kernel says ENOSPC, and how much it needed), up to the kernel's
 * maximum. A verifier rejection becomes a `VerifierError` carrying the log.
 */
export function loadProgram(load: ResolvedLoad): LoadResult {
  // Taken, not shared, while in use: a load started from inside this one (none today) gets its own.
  const attr = sharedAttr ?? new AttrBuffer(ProgLoadAttr);
  sharedAttr = undefined;
  try {
    return loadWith(attr, load);
  } finally {
    // Drop the references to the caller's bytecode and the log before the attr waits for the next load.
    attr.reset();
    sharedAttr = attr;
  }
}

function loadWith(attr: AttrBuffer<typeof ProgLoadAttr>, load: ResolvedLoad): LoadResult {
  const license = licenseCString(load.license);
  const instructionCount = load.bytecode.length / 8;

  let logLevel = load.logLevel;
  let logSize = logLevel === 0 ? 0 : Math.max(minLogSize, Math.min(load.logSize ?? firstLogSize, maxLogSize));
  let firstError: unknown;
  let interrupted = 0;
  for (;;) {
    const log = logLevel === 0 ? null : logBuffer(logSize);
    attr.reset();
    attr.u32('progType', load.type);
    attr.u32('insnCnt', instructionCount);
    attr.pointer('insns', load.bytecode);
    attr.pointer('license', license);
    attr.u32('progFlags', load.flags);
    attr.u32('kernVersion', load.kernelVersion);
    if (load.name) attr.setBytes('progName', load.name);
    if (load.expectedAttachType !== undefined) attr.u32('expectedAttachType', load.expectedAttachType);
    if (load.attachBtfId !== undefined) attr.u32('attachBtfId', load.attachBtfId);
    if (load.attachBtfObjFd !== undefined) attr.u32('attachBtfObjFd', load.attachBtfObjFd);
    if (load.attachProgFd !== undefined) attr.u32('attachProgFd', load.attachProgFd);
    if (load.fdArray !== undefined) attr.pointer('fdArray', load.fdArray);
    if (load.btf !== undefined) setBtf(attr, load.btf);
    if (log !== null) {
      attr.u32('logLevel', logLevel);
      attr.u32('logSize', logSize);
      attr.pointer('logBuf', log);
    }
    try {
      const fd = sys.bpf(Cmd.ProgLoad, attr.bytes, attr.pointers);
      return { fd, log: log !== null && load.logLevel !== 0 ? logText(log) : undefined };
    } catch (error) {
      if (!(error instanceof sys.SysError)) throw error;
      // A signal (a profiler's, say) interrupted the verifier: it says EAGAIN; try again, a few times.
      if (error.code === 'EAGAIN' && interrupted++ < maxInterruptedRetries) continue;
      if (error.code === 'ENOSPC' && log !== null && logSize < maxLogSize) {
        // The log did not fit. Since 6.4 the kernel says how much it needed; before, grow by 4x.
        const needed = hasField('logTrueSize') ? attr.getU32('logTrueSize') : 0;
        logSize = Math.min(maxLogSize, needed > logSize ? needed : logSize * 4);
        continue;
      }
      if (log === null && retryWithLog(error)) {
        firstError = error;
        logLevel = 1;
        logSize = Math.max(minLogSize, Math.min(load.logSize ?? firstLogSize, maxLogSize));
        continue;
      }
      const text = log === null ? '' : logText(log);
      const what = `${programTypeName(load.type)} program${load.name ? ` "${load.name}"` : ''}`;
      throw loadError(error, firstError, text, what, load, instructionCount);
    }
  }
}

function setBtf(attr: AttrBuffer<typeof ProgLoadAttr>, btf: NonNullable<ResolvedLoad['btf']>): void {
  attr.u32('progBtfFd', btf.fd);
  if (btf.funcInfo !== undefined) {
    attr.u32('funcInfoRecSize', FuncInfo.size);
    attr.pointer('funcInfo', btf.funcInfo);
    attr.u32('funcInfoCnt', btf.funcInfo.length / FuncInfo.size);
  }
  if (btf.lineInfo !== undefined) {
    attr.u32('lineInfoRecSize', LineInfo.size);
    attr.pointer('lineInfo', btf.lineInfo);
    attr.u32('lineInfoCnt', btf.lineInfo.length / LineInfo.size);
  }
}

/** How often a load interrupted by a signal (EAGAIN) is tried again, as libbpf does. */
const maxInterruptedRetries = 5;

/** Failures whose reason only the verifier's log can tell. */
function retryWithLog(error: sys.SysError): boolean {
  return (
    error.code === 'EACCES' || error.code === 'EINVAL' || error.code === 'EPERM' || error.code === 'E2BIG'
  );
}

function loadError(
  error: sys.SysError,
  firstError: unknown,
  log: string,
  what: string,
  load: ResolvedLoad,
  instructionCount: number,
): Error {
  const options = { cause: error, instructionCount };
  const original = firstError instanceof sys.SysError ? firstError : error;
  const missing = original.code === 'EPERM' ? missingCapabilities(load.type) : undefined;
  if (missing?.length === 0 && verifiedNothing(log)) return refusedUnverified(load.feature, options);
  if (log.trim() !== '') return new VerifierError(what, log, options);
  if (missing !== undefined && missing.length > 0) {
    const needed = capabilitiesToLoad(load.type).join(' and ');
    return new PermissionError(
      `loading ${what}: EPERM: permission denied; ${programTypeName(load.type)} programs need ${needed}: grant ${missing.join(' and ')}, or run as root`,
      options,
    );
  }
  if (missing !== undefined) {
    // Every capability held and still refused: kernel lockdown forbids this kind of program (tracing, LSM...).
    const lockdown = lockdownMode();
    const reason =
      lockdown === undefined
        ? 'refused by the kernel (EPERM although privileged; kernel lockdown is the usual cause)'
        : lockdown === 'none'
          ? 'refused by the kernel (EPERM although privileged; a security module may forbid it)'
          : `refused by kernel lockdown (${lockdown})`;
    return new NotSupportedError(load.feature, reason, options);
  }
  if (original.code === 'E2BIG') {
    return new InvalidArgumentError(
      `loading ${what}: the kernel refused ${instructionCount} instructions as too many (E2BIG)`,
      options,
    );
  }
  if (original.code === 'EINVAL') {
    // Ambiguous: an unknown program type, or a bad attribute. The type's feature probe tells.
    const probe = features.probeProgramType(load.type);
    if (probe.status === 'unsupported')
      return new NotSupportedError(probe.feature, probe.reason ?? '', options);
  }
  const translated = translateSysError(original, `loading ${what}`);
  return translated instanceof BpfError
    ? translated
    : new BpfError(`loading ${what}: ${String(translated)}`, options);
}

/** A log of the verifier's statistics only: it stopped before it checked any instruction. */
const verifiedNothing = (log: string) => /^processed 0 insns/m.test(log);

/**
 * EPERM as root before the verifier looked at any instruction: not a verdict on the program but
 * a refusal of its kind (on 6.18 with lockdown, iterators whose context holds map-element
 * buffers: bpf_map_elem, bpf_sk_storage_map, sockmap; libbpf is refused the same way).
 */
function refusedUnverified(feature: string, options: { readonly cause: unknown }): NotSupportedError {
  const lockdown = lockdownMode();
  const context = lockdown === undefined || lockdown === 'none' ? '' : `; kernel lockdown is ${lockdown}`;
  return new NotSupportedError(
    feature,
    `refused with EPERM before any instruction was verified, although privileged${context}`,
    { ...options, code: 'EPERM' },
  );
}
