import { CliError, ExitCode, privilegeAdvice } from './exit-codes.ts';

/**
 * Turns any error into the exit code and lines the command prints. Errors of `@ebpf/core` are
 * recognised by name, so that commands which never load the kernel binding (asm, disasm,
 * --help) do not have to import it.
 */
export function describeError(error: unknown): { exitCode: ExitCode; message: string; details: string[] } {
  if (error instanceof CliError)
    return { exitCode: error.exitCode, message: error.message, details: [...error.details] };
  if (!(error instanceof Error)) return { exitCode: ExitCode.Failure, message: String(error), details: [] };
  const code = (error as { code?: unknown }).code;
  switch (error.name) {
    case 'PermissionError':
      return { exitCode: ExitCode.NoPermission, message: error.message, details: [...privilegeAdvice] };
    case 'NotSupportedError':
      return { exitCode: ExitCode.NotSupported, message: error.message, details: [] };
    case 'NotFoundError':
      return { exitCode: ExitCode.NotFound, message: error.message, details: [] };
    case 'VerifierError':
      return { exitCode: ExitCode.Rejected, message: error.message, details: [] };
    case 'AsmError':
    case 'AssembleError':
    case 'InvalidInstructionError':
    case 'LinkError':
    case 'DecodeError':
      return { exitCode: ExitCode.Rejected, message: error.message, details: [] };
  }
  if (code === 'EPERM' || code === 'EACCES')
    return { exitCode: ExitCode.NoPermission, message: error.message, details: [...privilegeAdvice] };
  if (code === 'ENOENT') return { exitCode: ExitCode.NotFound, message: error.message, details: [] };
  if (code === 'EOPNOTSUPP' || code === 'ENOTSUPP' || code === 'ENOSYS')
    return { exitCode: ExitCode.NotSupported, message: error.message, details: [] };
  return { exitCode: ExitCode.Failure, message: error.message, details: [] };
}

/**
 * What `--json` prints for an error, under `"error"`: `name` (the error class, e.g.
 * `KeyNotFoundError`), `message`, `exitCode`, `details` (the advice lines), and where the error
 * carries them `code` (errno name), `errno`, `command` (the bpf command refused), `feature` and
 * `reason` (not supported).
 */
export function errorJson(
  error: unknown,
  exitCode: ExitCode,
  details: readonly string[],
): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error), exitCode, details };
  const json: Record<string, unknown> = { name: error.name, message: error.message, exitCode, details };
  for (const field of ['code', 'errno', 'command', 'feature', 'reason']) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (value !== undefined) json[field] = value;
  }
  return json;
}

/** Throws a usage error (exit code 2). */
export function usage(message: string): never {
  throw new CliError(message, ExitCode.Usage);
}

/** Parses a positive integer id argument, or throws a usage error naming `what`. */
export function parseId(text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0 || Number(text) > 0xffffffff)
    usage(`${what} must be a positive integer id, got '${text}'`);
  return Number(text);
}
