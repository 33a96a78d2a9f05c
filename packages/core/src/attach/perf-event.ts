import * as sys from '@ebpf/sys';
import { AttachType, AttrBuffer, PerfEventAttr } from '@ebpf/uapi';
import { translateSysError } from '../errors.ts';
import { createLink, type ProgramLike } from '../link/link.ts';
import { pmuType } from '../system.ts';

/**
 * Perf events as attach points: tracepoints and uprobes are opened as perf events, and a BPF link
 * (`BPF_LINK_CREATE`, `BPF_PERF_EVENT`) ties the program to the event. The link holds the event,
 * so the event's fd is closed as soon as the link exists.
 */

/** What goes into a `struct perf_event_attr` for an attach point. */
export interface PerfEventRequest {
  /** PMU type: `PerfType.Tracepoint` or a dynamic PMU's (uprobe). */
  readonly type: number;
  readonly config: number | bigint;
  /** `config2`: the uprobe's file offset. */
  readonly config2?: number | bigint;
  /** The process to watch, -1 for all. */
  readonly pid?: number;
  /** The uprobe's binary path (native passes its address in `config1`). */
  readonly path?: string;
  /** What is being attached, in words, for error messages. */
  readonly what: string;
}

let namePmus: Uint32Array | undefined;

/** The types of the PMUs that take a name in `config1` (kprobe, uprobe) this kernel has. */
export function namePmuTypes(): Uint32Array {
  namePmus ??= Uint32Array.from(
    ['kprobe', 'uprobe'].flatMap((name) => {
      try {
        return [pmuType(name)];
      } catch {
        return []; // that PMU is absent: nothing of its type is opened
      }
    }),
  );
  return namePmus;
}

/** A NUL-terminated UTF-8 copy of `text`, as the kernel reads strings. */
function cString(text: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.byteLength(text) + 1);
  new TextEncoder().encodeInto(text, bytes);
  return bytes;
}

/** Opens a perf event and links `program` to it; returns the link fd. */
export function linkPerfEvent(program: ProgramLike, request: PerfEventRequest): number {
  const attr = new AttrBuffer(PerfEventAttr)
    .u32('type', request.type)
    .u32('size', PerfEventAttr.size)
    .u64('config', request.config)
    .u64('samplePeriod', 1)
    .u32('wakeupEvents', 1)
    .u64('config2', request.config2 ?? 0);
  const pid = request.pid ?? -1;
  const path = request.path === undefined ? null : cString(request.path);
  let perfFd: number;
  try {
    // System-wide events need a CPU; the program runs on whichever CPU hits the event anyway.
    perfFd = sys.perfEventOpen(attr.bytes, pid, pid === -1 ? 0 : -1, -1, 0, path, namePmuTypes());
  } catch (error) {
    throw translateSysError(error, `opening the perf event for ${request.what}`);
  }
  try {
    return createLink({ program, target: perfFd, attachType: AttachType.PerfEvent, what: request.what });
  } finally {
    sys.close(perfFd);
  }
}
