import { closeSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import * as sys from '@ebpf/sys';
import {
  AttachType,
  AttrBuffer,
  CgroupIterOrder,
  Cmd,
  IterCreateAttr,
  IterLinkInfo,
  LinkType,
  ProgType,
} from '@ebpf/uapi';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { createLink, Link, requireProgramType, type TypedProgram } from './link.ts';

/** Which cgroups a cgroup iterator walks, from the one it is given. */
export type CgroupIterOrderName = 'self' | 'descendants_pre' | 'descendants_post' | 'ancestors_up';

const cgroupOrders: Readonly<Record<CgroupIterOrderName, number>> = {
  self: CgroupIterOrder.SelfOnly,
  descendants_pre: CgroupIterOrder.DescendantsPre,
  descendants_post: CgroupIterOrder.DescendantsPost,
  ancestors_up: CgroupIterOrder.AncestorsUp,
};

/** What an iterator walks, for the iterators that take a target (all fields optional). */
export interface IterOptions {
  /** The map of a `bpf_map_elem`, `bpf_sk_storage_map` or `sockmap` iterator (anything with a map fd). */
  readonly map?: { readonly fd: number };
  /** Only this thread (`tid`), process (`pid`) or pidfd's process, for `task`, `task_file`, `task_vma`. */
  readonly task?: { readonly tid?: number; readonly pid?: number; readonly pidFd?: number };
  /** The cgroup (an open cgroup2 directory fd) of a `cgroup` iterator, and the walk order. */
  readonly cgroup?: { readonly fd: number; readonly order?: CgroupIterOrderName };
}

/**
 * An iterator program attached to its target (`task`, `bpf_map`, `tcp`, `ksym`...). Each
 * `open()` (or `read()`) runs the iterator once over everything the target has, and what the
 * program writes with `bpf_seq_write`/`bpf_seq_printf` is the output.
 */
export class IterLink extends Link {
  /** @internal Use `attachIter`. */
  constructor(fd: number) {
    super(fd, LinkType.Iter);
  }

  /** A new iteration's fd (`BPF_ITER_CREATE`): reading it to its end runs the iterator. */
  private createIterator(): number {
    const attr = new AttrBuffer(IterCreateAttr);
    attr.u32('linkFd', this.fd);
    try {
      return sys.bpf(Cmd.IterCreate, attr.bytes, attr.pointers);
    } catch (error) {
      throw translateSysError(error, 'starting an iteration of the iter link');
    }
  }

  /** Runs the iterator; its output as a readable stream (also an async iterable of Buffers). */
  open(): Readable {
    const fd = this.createIterator();
    let done = false;
    const chunk = Buffer.allocUnsafe(64 * 1024);
    return new Readable({
      read() {
        try {
          // The kernel builds the output as it is read, without blocking on I/O: a plain read.
          const n = readSync(fd, chunk, 0, chunk.length, null);
          if (n === 0) this.push(null);
          else this.push(Buffer.from(chunk.subarray(0, n)));
        } catch (error) {
          this.destroy(error as Error);
        }
      },
      destroy(error, callback) {
        if (!done) closeSync(fd);
        done = true;
        callback(error);
      },
    });
  }

  /** Runs the iterator to its end and returns all of its output. */
  read(): Buffer {
    const fd = this.createIterator();
    try {
      const chunks: Buffer[] = [];
      for (;;) {
        const chunk = Buffer.allocUnsafe(64 * 1024);
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n === 0) return Buffer.concat(chunks);
        chunks.push(chunk.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  }
}

function checkFd(fd: unknown, what: string): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0)
    throw new InvalidArgumentError(`${what} must be an open fd (a non-negative integer), got ${String(fd)}`);
  return fd;
}

/** `union bpf_iter_link_info` for the target given, or undefined for iterators without one. */
function iterInfo(options: IterOptions): Uint8Array | undefined {
  const given = (['map', 'task', 'cgroup'] as const).filter((k) => options[k] !== undefined);
  if (given.length > 1)
    throw new InvalidArgumentError(`give one of map, task, cgroup, not ${given.join(' and ')}`);
  if (given.length === 0) return undefined;
  const info = new AttrBuffer(IterLinkInfo);
  if (options.map !== undefined) info.u32('mapMapFd', checkFd(options.map.fd, 'map.fd'));
  if (options.task !== undefined) {
    const { tid, pid, pidFd } = options.task;
    const set = [tid, pid, pidFd].filter((v) => v !== undefined);
    if (set.length !== 1) throw new InvalidArgumentError('task takes one of tid, pid or pidFd');
    if (tid !== undefined) info.u32('taskTid', checkFd(tid, 'task.tid'));
    if (pid !== undefined) info.u32('taskPid', checkFd(pid, 'task.pid'));
    if (pidFd !== undefined) info.u32('taskPidFd', checkFd(pidFd, 'task.pidFd'));
  }
  if (options.cgroup !== undefined) {
    const order = options.cgroup.order ?? 'self';
    if (!Object.hasOwn(cgroupOrders, order))
      throw new InvalidArgumentError(
        `cgroup.order must be one of ${Object.keys(cgroupOrders).join(', ')}, got '${order}'`,
      );
    info
      .u32('cgroupCgroupFd', checkFd(options.cgroup.fd, 'cgroup.fd'))
      .u32('cgroupOrder', cgroupOrders[order]);
  }
  return info.bytes;
}

/**
 * Attaches an iterator program (a `tracing` program loaded with attach type `trace_iter` and
 * `attachTo: 'bpf_iter_<target>'`) to its target; `link.open()` runs it.
 */
export function attachIter(program: TypedProgram, options: IterOptions = {}): IterLink {
  requireProgramType(program, 'attachIter', ProgType.Tracing);
  if (program.attachType !== undefined && program.attachType !== AttachType.TraceIter) {
    throw new InvalidArgumentError("attachIter needs a program loaded with attachType 'trace_iter'");
  }
  const info = iterInfo(options);
  const fd = createLink({
    program,
    target: 0,
    attachType: AttachType.TraceIter,
    what: 'attaching an iterator',
    ...(info === undefined
      ? {}
      : { extra: (attr) => attr.pointer('iterInfo', info).u32('iterInfoLen', info.length) }),
  });
  return new IterLink(fd);
}
