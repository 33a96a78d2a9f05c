import { LinkType, ProgType } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';
import { pmuConfigBit, pmuType } from '../system.ts';
import { checkCookie, Link, requireProgramType, type TypedProgram } from './link.ts';
import { linkPerfEvent } from './perf-event.ts';

/** Options of `attachKprobe`. */
export interface KprobeOptions {
  /** Byte offset into the function. */
  readonly offset?: number;
  /** Fire on return instead of entry (a kretprobe). */
  readonly returnProbe?: boolean;
  /** What `bpf_get_attach_cookie()` returns in the program. */
  readonly cookie?: number | bigint;
}

/** A `kprobe` program on a kernel function, through a kprobe perf event. Closing it detaches. */
export class KprobeLink extends Link {
  /** The kernel function, when known. */
  readonly function: string | undefined;

  /** @internal Use `attachKprobe`. */
  constructor(fd: number, fn: string | undefined) {
    super(fd, LinkType.PerfEvent);
    this.function = fn;
  }
}

/** The prefix of system call entry points on architectures that wrap them (`__x64_sys_openat`). */
const syscallPrefixes: Readonly<Record<string, string>> = {
  x64: '__x64_sys_',
  ia32: '__ia32_sys_',
  arm64: '__arm64_sys_',
  arm: '__arm_sys_',
  s390x: '__s390x_sys_',
  riscv64: '__riscv_sys_',
  ppc64: '__powerpc_sys_',
};

/** The kernel function a kprobe on system call `name` goes on (`openat` → `__x64_sys_openat`), as libbpf's `ksyscall`. */
export function syscallFunction(name: string): string {
  return `${syscallPrefixes[process.arch] ?? 'sys_'}${name}`;
}

/**
 * Attaches a `kprobe` program to kernel function `fn` (a kprobe, or with `returnProbe` a
 * kretprobe) through the kprobe PMU. A kernel without kprobes (`CONFIG_KPROBES` off, so no
 * `/sys/bus/event_source/devices/kprobe`) gives a `NotSupportedError` saying so.
 */
export function attachKprobe(program: TypedProgram, fn: string, options: KprobeOptions = {}): KprobeLink {
  requireProgramType(program, 'attachKprobe', ProgType.Kprobe);
  if (typeof fn !== 'string' || !/^[A-Za-z0-9_.]+$/.test(fn))
    throw new InvalidArgumentError(
      `function must be a kernel function name like 'do_sys_openat2', got '${String(fn)}'`,
    );
  const { offset = 0, returnProbe = false } = options;
  if (!Number.isInteger(offset) || offset < 0)
    throw new InvalidArgumentError('offset must be a non-negative integer');
  const type = pmuType('kprobe'); // NotSupportedError naming the missing PMU
  const retprobeBit = returnProbe ? pmuConfigBit('kprobe', 'retprobe') : undefined;
  if (returnProbe && retprobeBit === undefined)
    throw new InvalidArgumentError('this kernel does not describe kretprobes (no kprobe/format/retprobe)');
  const fd = linkPerfEvent(program, {
    type,
    config: retprobeBit === undefined ? 0 : 1n << BigInt(retprobeBit),
    config2: offset,
    name: fn,
    ...(options.cookie === undefined ? {} : { cookie: checkCookie(options.cookie) }),
    what: `attaching a ${returnProbe ? 'kretprobe' : 'kprobe'} to ${fn}`,
  });
  return new KprobeLink(fd, fn);
}
