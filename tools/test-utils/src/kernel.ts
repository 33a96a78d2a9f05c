import { describe } from 'vitest';

const inCI = process.env.CI === 'true';

/**
 * Why kernel tests cannot run here, or undefined when they can. Tests call `bpf()`, which needs
 * root (or CAP_BPF + CAP_PERFMON + CAP_NET_ADMIN) on this kernel.
 */
function missingPrivilege(): string | undefined {
  if (process.platform !== 'linux') return `eBPF needs Linux, this is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'kernel tests need root (run them with sudo)';
  return undefined;
}

/**
 * Declares a block of tests that call into the running kernel. Without privileges the block
 * is skipped with the reason printed, except under CI=true, where it fails: CI must never pass
 * by skipping kernel tests.
 */
export function requireKernel(name: string, body: () => void): void {
  const reason = missingPrivilege();
  if (reason === undefined) {
    describe(name, body);
    return;
  }
  if (inCI) throw new Error(`${name}: ${reason} (CI=true, so this is a failure, not a skip)`);
  console.warn(`skipping ${name}: ${reason}`);
  describe.skip(name, body);
}

/**
 * The one way a test may skip because the running kernel cannot do something: `reason` names
 * what is missing and why (say, "fentry: refused by lockdown (integrity)"), or is undefined when
 * the capability is there. Use it only after detecting the cause; never for missing privileges.
 */
export function skipUnsupported(reason: string | undefined): boolean {
  if (reason !== undefined) console.warn(`skipped: ${reason}`);
  return reason !== undefined;
}
