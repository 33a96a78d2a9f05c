import { SysError } from '@ebpf/sys';

/**
 * Every error `@ebpf/core` throws is a `BpfError`. Errors that come from a failed system call
 * keep the kernel's `errno` and `code` ('ENOENT', 'EPERM', ...) and the original `SysError` as
 * `cause`, so callers can branch on `instanceof` or on `code`.
 */
export class BpfError extends Error {
  override name = 'BpfError';
  /** The errno name of the failed system call, when there was one. */
  readonly code: string | undefined;
  /** The errno of the failed system call, when there was one. */
  readonly errno: number | undefined;

  constructor(message: string, options: { cause?: unknown; code?: string; errno?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.errno = options.errno;
  }
}

/** An argument was wrong before anything reached the kernel; the message names the argument. */
export class InvalidArgumentError extends BpfError {
  override name = 'InvalidArgumentError';
}

/** The object (map, program, link, ...) was already closed. */
export class ClosedError extends BpfError {
  override name = 'ClosedError';
}

/** The kernel refused for lack of privilege (EPERM/EACCES); the message says what to grant. */
export class PermissionError extends BpfError {
  override name = 'PermissionError';
}

/** A map element, pinned path or object id that does not exist (ENOENT). */
export class NotFoundError extends BpfError {
  override name = 'NotFoundError';
}

/**
 * The running kernel cannot do this. `feature` names what was asked for ('map type ringbuf',
 * 'program type xdp', 'helper bpf_ringbuf_output for xdp'), `reason` why (too old, compiled
 * out, refused by lockdown...).
 */
export class NotSupportedError extends BpfError {
  override name = 'NotSupportedError';
  readonly feature: string;
  readonly reason: string;

  constructor(
    feature: string,
    reason: string,
    options: { cause?: unknown; code?: string; errno?: number } = {},
  ) {
    super(`${feature} is not supported by this kernel: ${reason}`, options);
    this.feature = feature;
    this.reason = reason;
  }
}

const permissionAdvice =
  'run as root, or grant CAP_BPF (plus CAP_PERFMON for tracing and CAP_NET_ADMIN for networking programs)';

/**
 * Turns a failed system call into the domain error a user can act on. `what` says what was being
 * done, in words ('creating hash map "counters"'); it starts the message.
 */
export function translateSysError(error: unknown, what: string): Error {
  if (!(error instanceof SysError))
    return error instanceof Error ? error : new BpfError(`${what}: ${String(error)}`);
  const options = { cause: error, code: error.code, errno: error.errno };
  const detail = error.hint ? `${error.code}: ${error.hint}` : `${error.code} (${error.message})`;
  switch (error.code) {
    case 'EPERM':
    case 'EACCES':
      return new PermissionError(`${what}: ${error.code}: permission denied; ${permissionAdvice}`, options);
    case 'ENOENT':
      return new NotFoundError(`${what}: ${detail}`, options);
    case 'EMFILE':
    case 'ENFILE':
      return new BpfError(
        `${what}: ${error.code}: too many open files; close() maps, programs and links you no longer need (or declare them with \`using\`): objects dropped without close() are only closed once the garbage collector finds them`,
        options,
      );
    default:
      return new BpfError(`${what}: ${detail}`, options);
  }
}
