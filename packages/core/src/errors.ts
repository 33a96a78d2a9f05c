import { errnoNumber, SysError } from '@ebpf/sys';

/**
 * The error taxonomy of `@ebpf/core`. Every error it throws is a `BpfError`; the subclass says
 * what happened in terms a caller branches on:
 *
 * | class | when |
 * | --- | --- |
 * | `InvalidArgumentError` | bad input found before anything reached the kernel |
 * | `KernelRejectedError` | the kernel refused the arguments (EINVAL and kin); `command` names the call |
 * | `NotFoundError` | a pinned path, object id, symbol or interface that does not exist |
 * | `KeyNotFoundError` | a map key that is not there (a `NotFoundError`) |
 * | `KeyExistsError` | a key that is already there (update with `noExist`) |
 * | `MapFullError` | a map at `maxEntries`, or an index past its end |
 * | `NotSupportedError` | the running kernel cannot do this; `feature` and `reason` say what and why |
 * | `PermissionError` | missing privilege (EPERM/EACCES); the message says what to grant |
 * | `VerifierError` | the verifier refused a program (in `program/verifier-error.ts`) |
 * | `ClosedError` | the object was already closed |
 *
 * Errors that come from a failed system call keep the kernel's errno name as `code` ('ENOENT'),
 * its number as `errno`, and the original `SysError` as `cause`. Errors raised in JS name the
 * errno they stand for by its name only; the number is looked up, never written down.
 */
export class BpfError extends Error {
  override name = 'BpfError';
  /** The errno name of the failed system call, when there was one. */
  readonly code: string | undefined;
  /** The errno of the failed system call, when there was one. */
  readonly errno: number | undefined;

  constructor(message: string, options: BpfErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const sys = options.cause instanceof SysError ? options.cause : undefined;
    this.code = options.code ?? sys?.code;
    this.errno = this.code === undefined ? undefined : (errnoNumber(this.code) ?? sys?.errno);
  }
}

/** Options every {@link BpfError} takes: the error it wraps, and the errno name it stands for. */
export interface BpfErrorOptions {
  readonly cause?: unknown;
  /** An errno name ('ENOENT'); taken from a `SysError` cause when not given. */
  readonly code?: string;
}

/** An argument was wrong before anything reached the kernel; the message names the argument. */
export class InvalidArgumentError extends BpfError {
  override name = 'InvalidArgumentError';
}

/**
 * The kernel refused the arguments of a call (EINVAL, E2BIG, EBADF, ...) for a reason JS could
 * not check beforehand. `command` is the call that failed ('BPF_LINK_UPDATE').
 */
export class KernelRejectedError extends BpfError {
  override name = 'KernelRejectedError';
  readonly command: string | undefined;

  constructor(message: string, options: BpfErrorOptions & { readonly command?: string } = {}) {
    super(message, options);
    this.command = options.command ?? (options.cause instanceof SysError ? options.cause.command : undefined);
  }
}

/** The object (map, program, link, ...) was already closed. */
export class ClosedError extends BpfError {
  override name = 'ClosedError';
}

/** The kernel refused for lack of privilege (EPERM/EACCES); the message says what to grant. */
export class PermissionError extends BpfError {
  override name = 'PermissionError';
}

/** A pinned path, object id, symbol or interface that does not exist (ENOENT, ENODEV). */
export class NotFoundError extends BpfError {
  override name = 'NotFoundError';
}

/** A map element that does not exist. */
export class KeyNotFoundError extends NotFoundError {
  override name = 'KeyNotFoundError';
}

/** A map element that already exists, for an update that asked for a new one (`noExist`). */
export class KeyExistsError extends BpfError {
  override name = 'KeyExistsError';
}

/** A map that holds `maxEntries` elements already, or an index past its end (E2BIG). */
export class MapFullError extends BpfError {
  override name = 'MapFullError';
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

  constructor(feature: string, reason: string, options: BpfErrorOptions = {}) {
    super(`${feature} is not supported by this kernel: ${reason}`, options);
    this.feature = feature;
    this.reason = reason;
  }
}

const permissionAdvice =
  'run as root, or grant CAP_BPF (plus CAP_PERFMON for tracing and CAP_NET_ADMIN for networking programs)';

/** errno names that mean "the kernel refused these arguments". */
const rejections = new Set(['EINVAL', 'E2BIG', 'EBADF', 'ERANGE', 'EFAULT', 'EPROTO', 'EXDEV']);

/** errno names that mean "this kernel, or this object type, has no such operation". */
const unsupported = new Set(['EOPNOTSUPP', 'ENOTSUPP']);

/** Whether an error means "the kernel has no such operation" (EOPNOTSUPP/ENOTSUPP). */
export function isUnsupported(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && unsupported.has(code);
}

/**
 * Turns a failed system call into the domain error a user can act on. `what` says what was being
 * done, in words ('creating hash map "counters"'); it starts the message.
 */
export function translateSysError(error: unknown, what: string): Error {
  if (!(error instanceof SysError))
    return error instanceof Error ? error : new BpfError(`${what}: ${String(error)}`);
  const options = { cause: error };
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
      if (rejections.has(error.code)) return new KernelRejectedError(`${what}: ${detail}`, options);
      if (unsupported.has(error.code)) return new NotSupportedError(what, detail, options);
      return new BpfError(`${what}: ${detail}`, options);
  }
}
