import * as sys from '@ebpf/sys';
import { AttachType } from '@ebpf/uapi';
import { translateSysError } from '../errors.ts';
import { createLink, type ProgramLike } from '../link/link.ts';

/**
 * Perf events as attach points: tracepoints and uprobes are opened as perf events, and a BPF link
 * (`BPF_LINK_CREATE`, `BPF_PERF_EVENT`) ties the program to the event. The link holds the event,
 * so the event's fd is closed as soon as the link exists.
 */

/** `sizeof(struct perf_event_attr)` as of PERF_ATTR_SIZE_VER8. */
const perfAttrSize = 136;

/** What goes into a `struct perf_event_attr` for an attach point. */
export interface PerfEventRequest {
  /** PMU type: `PERF_TYPE_TRACEPOINT` (2) or a dynamic PMU's (uprobe). */
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

/** Opens a perf event and links `program` to it; returns the link fd. */
export function linkPerfEvent(program: ProgramLike, request: PerfEventRequest): number {
  const attr = new Uint8Array(new ArrayBuffer(perfAttrSize));
  const view = new DataView(attr.buffer);
  view.setUint32(0, request.type, true); // type
  view.setUint32(4, perfAttrSize, true); // size
  view.setBigUint64(8, BigInt(request.config), true); // config
  view.setBigUint64(16, 1n, true); // sample_period
  view.setUint32(48, 1, true); // wakeup_events
  view.setBigUint64(64, BigInt(request.config2 ?? 0), true); // config2
  const pid = request.pid ?? -1;
  let path: Uint8Array | null = null;
  if (request.path !== undefined) {
    path = new Uint8Array(new ArrayBuffer(Buffer.byteLength(request.path) + 1));
    new TextEncoder().encodeInto(request.path, path);
  }
  let perfFd: number;
  try {
    // System-wide events need a CPU; the program runs on whichever CPU hits the event anyway.
    perfFd = sys.perfEventOpen(attr, pid, pid === -1 ? 0 : -1, -1, 0, path);
  } catch (error) {
    throw translateSysError(error, `opening the perf event for ${request.what}`);
  }
  try {
    return createLink({ program, target: perfFd, attachType: AttachType.PerfEvent, what: request.what });
  } finally {
    sys.close(perfFd);
  }
}
