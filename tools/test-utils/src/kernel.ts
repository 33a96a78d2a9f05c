import { readFileSync } from 'node:fs';
import { describe } from 'vitest';

const inCI = process.env.CI === 'true';

/**
 * What the CI machine's kernel is known to lack (`EBPF_TEST_KNOWN_GAPS`, comma-separated names
 * that `.ci/run` declares for its kernel): a skip naming one of these is allowed under CI=true.
 */
const knownGaps = new Set((process.env.EBPF_TEST_KNOWN_GAPS ?? '').split(',').filter(Boolean));

/** The capabilities the kernel tests use: load (BPF, PERFMON), attach (NET_ADMIN), mount and netns (SYS_ADMIN). */
const needed = { CAP_SYS_ADMIN: 21, CAP_NET_ADMIN: 12, CAP_PERFMON: 38, CAP_BPF: 39 };

/** The effective capability set of this process, from /proc/self/status. */
function effectiveCapabilities(): bigint {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapEff:'));
  return line === undefined ? 0n : BigInt(`0x${line.slice('CapEff:'.length).trim()}`);
}

/** Why kernel tests cannot run here, or undefined when they can (root, or the capabilities above). */
function missingPrivilege(): string | undefined {
  if (process.platform !== 'linux') return `eBPF needs Linux, this is ${process.platform}`;
  const caps = effectiveCapabilities();
  const missing = Object.entries(needed).filter(([, bit]) => (caps & (1n << BigInt(bit))) === 0n);
  if (missing.length === 0) return undefined;
  return `kernel tests need root or ${missing.map(([name]) => name).join(', ')} (run them with sudo)`;
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
  refuseInCI(`${name}: ${reason}`);
  console.warn(`skipping ${name}: ${reason}`);
  describe.skip(name, body);
}

/**
 * The one way a test may skip because this machine cannot do something: `reason` names what is
 * missing and why (say, "fentry: refused by lockdown (integrity)"), or is undefined when the
 * capability is there. Use it as `it.skipIf(skipUnsupported(reason, 'trampoline'))`, only after
 * detecting the cause; never for missing privileges (that is `requireKernel`). Under CI=true a
 * skip is a failure unless `gap` is one CI declared its kernel lacks (`EBPF_TEST_KNOWN_GAPS`):
 * CI must have everything else the tests use, and a gap it did not expect fails loudly.
 */
export function skipUnsupported(reason: string | undefined, gap?: string): boolean {
  if (reason === undefined) return false;
  if (gap === undefined || !knownGaps.has(gap)) refuseInCI(reason);
  console.warn(`skipped: ${reason}`);
  return true;
}

function refuseInCI(reason: string): void {
  if (inCI) throw new Error(`${reason} (CI=true, so this is a failure, not a skip)`);
}
