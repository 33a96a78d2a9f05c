/**
 * Exit codes of the `ebpf` command. Scripts may rely on them; they follow BSD's sysexits where
 * one fits (`EX_UNAVAILABLE`, `EX_NOPERM`).
 */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** Any other failure: a system call failed, a file could not be read, ... */
  Failure: 1,
  /** Wrong command line: unknown command or option, missing or malformed argument. */
  Usage: 2,
  /** The object asked for (program, map or link id) does not exist. */
  NotFound: 3,
  /** The verifier rejected the program (`ebpf run`) or the assembler rejected the source. */
  Rejected: 4,
  /** The running kernel lacks what was asked for (program type, helper, attach mode). */
  NotSupported: 69,
  /** Permission denied: run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN. */
  NoPermission: 77,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the command reports in one line (no stack) before exiting with `code`. */
export class CliError extends Error {
  override name = 'CliError';
  /** The process exit code this error ends the command with. */
  readonly exitCode: ExitCode;
  /** Extra lines printed after the message (advice, a verifier log excerpt, ...). */
  readonly details: readonly string[];

  constructor(message: string, exitCode: ExitCode = ExitCode.Failure, details: readonly string[] = []) {
    super(message);
    this.exitCode = exitCode;
    this.details = details;
  }
}

/**
 * How to run this same command as root: `sudo ebpf ...`, or for `pnpm start` (and other package
 * scripts) the package manager with the user's PATH, which sudo would otherwise reset.
 */
export function asRootCommand(env: NodeJS.ProcessEnv = process.env): string {
  const script = env.npm_lifecycle_event;
  if (!script) return 'sudo ebpf ...';
  const manager = env.npm_config_user_agent?.split('/')[0] || 'npm';
  return `sudo env "PATH=$PATH" ${manager} ${script === 'start' ? 'start' : `run ${script}`}`;
}

/** What to tell a user who ran the command without the privileges eBPF needs. */
export const privilegeAdvice: readonly string[] = [
  `eBPF needs privileges: run it as root (${asRootCommand()}), or give node the capabilities`,
  '(this applies to every script node runs):',
  '  sudo setcap cap_bpf,cap_perfmon,cap_net_admin,cap_sys_admin+ep "$(readlink -f "$(command -v node)")"',
];
