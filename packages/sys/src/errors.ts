import { Errno, errnoDescriptions, errnoNames } from '@ebpf/uapi';

/** The symbolic name of an errno number ('ENOENT'), or `E<n>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `E${errno}`;
}

/** The errno number of a symbolic name ('ENOENT' → 2), the inverse of {@link errnoName}. */
export function errnoNumber(name: string): number | undefined {
  return Object.hasOwn(Errno, name) ? Errno[name as keyof typeof Errno] : undefined;
}

/** What an errno means, in the kernel header's words (lower-cased to read inside a sentence). */
function describe(errno: number): string {
  return errnoDescriptions[errno]?.toLowerCase() ?? 'unknown error';
}

const memlock =
  'on kernels before 5.11 BPF memory also counts against RLIMIT_MEMLOCK: raise it with setMemlockLimit(Infinity)';

/** What an errno means for a given command, where the kernel's meaning is known. */
const hints: Readonly<Record<string, string>> = {
  EPERM: `needs CAP_BPF (with CAP_PERFMON or CAP_NET_ADMIN for some program types) or root; ${memlock}; kernel.unprivileged_bpf_disabled or lockdown can also refuse`,
  EACCES: 'permission denied: a file mode or LSM refused, or (loading a program) the verifier rejected it',
  'BPF_PROG_LOAD:EACCES':
    'the verifier rejected the program: read the verifier log (log_level 1 or 2 with a log buffer)',
  'BPF_PROG_LOAD:EINVAL':
    'the kernel refused the program: an invalid instruction, program type, attach type or flag for this kernel (see the verifier log)',
  'BPF_PROG_LOAD:E2BIG':
    'the program is too large (insn_cnt, or more than 1M instructions processed by the verifier)',
  'BPF_PROG_LOAD:ENOSPC': 'the verifier log buffer is too small for the log: give a larger log_size',
  'BPF_BTF_LOAD:ENOSPC': 'the BTF log buffer is too small: give a larger btf_log_size',
  'BPF_PROG_TEST_RUN:ENOSPC': 'data_out or ctx_out is smaller than what the program produced',
  'BPF_PROG_TEST_RUN:ENOTSUPP': 'this program type cannot be test-run on this kernel',
  E2BIG: 'a size is too large for this kernel, or the attr has a non-zero field this kernel does not know',
  'BPF_MAP_UPDATE_ELEM:E2BIG': 'the map is full (max_entries reached)',
  'BPF_MAP_UPDATE_BATCH:E2BIG': 'the map is full (max_entries reached)',
  'BPF_MAP_CREATE:E2BIG': 'key size, value size or max_entries is too large for this map type',
  EINVAL:
    'the kernel refused an argument: an unknown type or flag for this kernel, sizes that do not fit the map or program type, or a field that must be zero',
  ENOENT: 'no such object',
  'BPF_MAP_LOOKUP_ELEM:ENOENT': 'no such key',
  'BPF_MAP_DELETE_ELEM:ENOENT': 'no such key',
  'BPF_MAP_GET_NEXT_KEY:ENOENT': 'no more keys',
  'BPF_MAP_LOOKUP_BATCH:ENOENT': 'the walk is complete',
  'BPF_OBJ_GET:ENOENT': 'nothing is pinned at this path',
  'BPF_PROG_GET_FD_BY_ID:ENOENT': 'no program with this id',
  'BPF_MAP_GET_FD_BY_ID:ENOENT': 'no map with this id',
  'BPF_LINK_GET_FD_BY_ID:ENOENT': 'no link with this id',
  'BPF_BTF_GET_FD_BY_ID:ENOENT': 'no BTF object with this id',
  EEXIST:
    'already exists (an update with BPF_NOEXIST, a pin over an existing path, or an attachment already there)',
  EBADF: 'not an open fd, or an fd of the wrong kind for this argument',
  EFAULT: 'the kernel could not read or write a buffer',
  EBUSY: 'busy: the object is in use (another program attached, or a frozen or mapped map)',
  ENOMEM: `the kernel could not allocate memory; ${memlock}`,
  ENOTSUPP: 'not supported by this kernel, or by this map or program type',
  EOPNOTSUPP: 'not supported by this kernel, or by this map or program type',
  ENOSPC: 'no space left: a buffer is smaller than the result',
  ESRCH: 'no such process or object',
  ENODEV: 'no such device (interface, PMU or hardware offload)',
  'if_nametoindex:ENODEV': 'no network interface with this name',
  ENOTSOCK: 'the fd is not a socket',
  'setrlimit(RLIMIT_MEMLOCK):EPERM': 'raising the hard limit needs CAP_SYS_RESOURCE',
  'perf_event_open:E2BIG':
    'the perf_event_attr size is not one this kernel accepts (it wrote its own size into attr.size)',
  'perf_event_open:ENOENT': 'no such event or PMU (a tracepoint id, kprobe or uprobe that does not exist)',
  'perf_event_open:EACCES': 'perf_event_paranoid forbids this event without CAP_PERFMON or root',
  'mmap:EPERM':
    'the kernel will not map these pages writable (ring buffer data, a frozen map): map them with mmapReadOnlyUnchecked() and only read them',
  'mmap:EACCES': 'the fd was opened read-only (BPF_F_RDONLY): it cannot back a writable mapping',
  'mmap:EINVAL':
    'the object cannot back this range: a map without BPF_F_MMAPABLE, a length or offset past its end, or a perf ring that is not 1 + 2^n pages',
};

/** The hint for `code` failing in `command`, if one is known. */
export function hintFor(command: string, code: string): string | undefined {
  return hints[`${command}:${code}`] ?? (hints[code] || undefined);
}

/** Options of {@link SysError}'s constructor beyond errno and command. */
export interface SysErrorOptions {
  /** Overrides the computed hint. */
  readonly hint?: string;
  /** The underlying error, if any. */
  readonly cause?: unknown;
}

/**
 * A failed system call: `bpf()`, `mmap()`, `perf_event_open()`, `setsockopt()`, ... Every export of
 * `@ebpf/sys` throws this for kernel failures (argument mistakes throw TypeError / RangeError).
 *
 * @example
 * ```ts
 * try { bpf(Cmd.MapCreate, attr.bytes, attr.pointers); }
 * catch (e) { if (e instanceof SysError && e.code === 'EPERM') console.error(e.hint); }
 * ```
 */
export class SysError extends Error {
  override readonly name = 'SysError';
  /** The errno number (positive, e.g. 2). */
  readonly errno: number;
  /** The errno's symbolic name, e.g. 'ENOENT'. */
  readonly code: string;
  /** What failed: a bpf command name ('BPF_MAP_CREATE') or a syscall ('mmap', 'perf_event_open'). */
  readonly command: string;
  /** What the error usually means for this command, when known. */
  readonly hint: string | undefined;

  constructor(errno: number, command: string, options: SysErrorOptions = {}) {
    const code = errnoName(errno);
    const hint = options.hint ?? hintFor(command, code);
    super(`${command} failed: ${code} (${describe(errno)})${hint ? `: ${hint}` : ''}`, {
      cause: options.cause,
    });
    this.errno = errno;
    this.code = code;
    this.command = command;
    this.hint = hint;
  }
}
