import {
  BpfError,
  InvalidArgumentError,
  NotFoundError,
  NotSupportedError,
  PermissionError,
  translateSysError,
} from '../errors.ts';

const ENOTSUPP = 524;

/** Whether an error means "the kernel has no such operation for this map type". */
export function isUnsupported(error: unknown): boolean {
  const e = error as { code?: string; errno?: number };
  return e?.code === 'EOPNOTSUPP' || e?.code === 'ENOTSUPP' || e?.errno === ENOTSUPP || e?.errno === 95;
}

/** Words a failed element operation on a map for the user. `what`: 'updating hash map "x"'. */
export function elementError(error: unknown, what: string, maxEntries: number): Error {
  const e = error as { code?: string; errno?: number };
  const options = { cause: error, code: e?.code ?? '', errno: e?.errno ?? 0 };
  switch (e?.code) {
    case 'EEXIST':
      return new BpfError(`${what}: the key already exists (flags: 'noExist')`, options);
    case 'ENOENT':
      return new NotFoundError(`${what}: no such key`, options);
    case 'E2BIG':
      return new BpfError(
        `${what}: the map is full or the index is out of range (maxEntries ${maxEntries})`,
        options,
      );
    case 'EPERM':
    case 'EACCES':
      return new PermissionError(
        `${what}: not allowed (${e.code}): the map is frozen or read-only for user space (BPF_F_RDONLY), or this process lacks CAP_BPF`,
        options,
      );
    case 'EINVAL':
      return new InvalidArgumentError(`${what}: the kernel refused the arguments (EINVAL)`, options);
    default:
      if (isUnsupported(error)) {
        return new NotSupportedError(what, 'this map type does not support it from user space', options);
      }
      return translateSysError(error, what);
  }
}
