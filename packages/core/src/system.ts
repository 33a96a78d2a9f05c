import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import * as sys from '@ebpf/sys';
import { NotSupportedError } from './errors.ts';
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

let cachedPageSize: number | undefined;
/** The system page size. */
export function pageSize(): number {
  cachedPageSize ??= sys.pageSize();
  return cachedPageSize;
}

let cachedCpus: number | undefined;
/** Number of possible CPUs: per-CPU maps hold one value for each. */
export function possibleCpus(): number {
  cachedCpus ??= sys.possibleCpus();
  return cachedCpus;
}

/** Parses a CPU list of sysfs (`0-3,5`) into CPU numbers. */
export function parseCpuList(text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [from, to = from] = part.split('-').map(Number) as [number, number?];
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/**
 * The CPUs online now (`/sys/devices/system/cpu/online`, read each time: CPUs come and go); all
 * possible CPUs if it cannot be read.
 */
export function onlineCpus(): number[] {
  try {
    return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
  } catch {
    return Array.from({ length: possibleCpus() }, (_, cpu) => cpu);
  }
}

let cachedBootMs: number | undefined;
/** Wall-clock time of boot in ms: now minus the time since boot (`/proc/uptime`, CLOCK_BOOTTIME). */
export function bootTime(): number {
  if (cachedBootMs === undefined) {
    let uptime = 0;
    try {
      uptime = Number.parseFloat(readFileSync('/proc/uptime', 'utf8'));
    } catch {
      // Not Linux or no procfs: times since boot are then relative to the epoch, still ordered.
    }
    cachedBootMs = Date.now() - uptime * 1000;
  }
  return cachedBootMs;
}

const pmuDevices = '/sys/bus/event_source/devices';

/** The type number of a dynamic PMU (`uprobe`, `kprobe`), or a `NotSupportedError` naming it. */
export function pmuType(name: string): number {
  try {
    return Number.parseInt(readFileSync(`${pmuDevices}/${name}/type`, 'utf8'), 10);
  } catch (error) {
    throw new NotSupportedError(`${name}s`, `the kernel has no ${name} PMU (${pmuDevices}/${name})`, {
      cause: error,
      code: 'ENOENT',
    });
  }
}

/** The bit of `config` a PMU format names (`retprobe` is `config:0`), or undefined. */
export function pmuConfigBit(name: string, format: string): number | undefined {
  try {
    const text = readFileSync(`${pmuDevices}/${name}/format/${format}`, 'utf8');
    const match = /^config:(\d+)/.exec(text.trim());
    return match ? Number(match[1]) : undefined;
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
