import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import * as sys from '@ebpf/sys';
import { fdFromId, objectIds } from './object-info.ts';
import type { ObjectKind } from './pin.ts';

/** The running kernel's version. */
export interface KernelVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** `KERNEL_VERSION(major, minor, patch)` as the kernel computes it (patch capped at 255). */
  readonly code: number;
  /** The full release string (`uname -r`). */
  readonly release: string;
  /** `major.minor.patch`. */
  toString(): string;
}

let kernel: KernelVersion | undefined;

/** Parses a release string like `6.18.44-fc-v595` (`uname -r`). */
export function parseKernelRelease(text: string): KernelVersion {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) throw new Error(`cannot read a kernel version from '${text}'`);
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const patch = Number(match[3] ?? 0);
  const code = (major << 16) + (minor << 8) + Math.min(patch, 255);
  return Object.freeze({
    major,
    minor,
    patch,
    code,
    release: text,
    toString: () => `${major}.${minor}.${patch}`,
  });
}

/** The running kernel's version, read once from `uname`. */
export function kernelVersion(): KernelVersion {
  kernel ??= parseKernelRelease(release());
  return kernel;
}

/** Kernel lockdown modes (`/sys/kernel/security/lockdown`). */
export type LockdownMode = 'none' | 'integrity' | 'confidentiality';

/**
 * The active kernel lockdown mode, or `undefined` when it cannot be read (no securityfs mounted,
 * kernel without the lockdown LSM). Under `integrity`, tracing and LSM programs are refused.
 */
export function lockdownMode(): LockdownMode | undefined {
  try {
    const text = readFileSync('/sys/kernel/security/lockdown', 'utf8');
    const active = /\[(\w+)\]/.exec(text)?.[1];
    return active === 'none' || active === 'integrity' || active === 'confidentiality' ? active : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Describes every object of `kind` on the system: opens each id in turn, calls `describe` with
 * the fd and closes it. Objects that go away while listing are skipped.
 */
export function listObjects<T>(kind: ObjectKind, describe: (fd: number) => T): T[] {
  const out: T[] = [];
  for (const id of objectIds(kind)) {
    let fd: number;
    try {
      fd = fdFromId(kind, id);
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') continue;
      throw error;
    }
    try {
      out.push(describe(fd));
    } finally {
      sys.close(fd);
    }
  }
  return out;
}
