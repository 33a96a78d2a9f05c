import * as sys from '@ebpf/sys';
import {
  AttrBuffer,
  PerfEventAttr,
  PerfEventHeader,
  PerfEventMmapPage,
  PerfRecord,
  PerfSample,
  PerfSwId,
  PerfType,
} from '@ebpf/uapi';
import { type Codec, hostLittleEndian } from '../codec/codec.ts';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { onlineCpus, pageSize, possibleCpus } from '../system.ts';
import { EventReader, takeEach } from './reader.ts';
import {
  Area,
  atomicsLoad,
  atomicsStore,
  BU64,
  copyOut,
  isClosed,
  point,
  type Record,
  type RingRecord,
  recordIn,
  release,
  toBigInt,
  toNumber,
  U8,
  U16,
  U32,
} from './record.ts';

/** What `PerfBuffer` needs of a map: a `BpfMap` of type 'perf_event_array'. */
export interface PerfBufferMap {
  readonly fd: number;
  readonly typeName: string;
  readonly maxEntries: number;
}

/** Options of {@link PerfBuffer}. */
export interface PerfBufferOptions {
  /** Data pages of each CPU's ring, a power of two (default 64). */
  readonly pageCount?: number;
  /**
   * Wake `wait()` and `for await` only once this many bytes are waiting in a CPU's ring (default:
   * on every sample). Fewer wake-ups under load, later delivery when it is light.
   */
  readonly watermark?: number;
  /**
   * The CPUs whose samples to read (default: every CPU online). Programs running on another CPU
   * find no event in the map there: `bpf_perf_event_output` fails (ENOENT) and nothing is counted.
   */
  readonly cpus?: readonly number[];
}

/** One sample as `next()` and `for await` give it: a copy you own, and the CPU it was written on. */
export interface PerfSampleCopy {
  readonly cpu: number;
  readonly data: Uint8Array;
}

/**
 * Receives one sample (its raw bytes, as `bpf_perf_event_output` wrote them, padded by the kernel
 * to keep records 8-byte aligned) and the CPU it came from; see {@link RingRecord} for what it may
 * do with the record and for how long.
 */
export type PerfRecordHandler = (record: RingRecord, cpu: number) => void;

const PAGE_COUNT = 64;
const TWO32 = 2 ** 32;
const HEADER = PerfEventHeader.size;
const SAMPLE = PerfRecord.Sample;
const LOST = PerfRecord.Lost;
/** Indexes into the metadata page as 64-bit words. */
const HEAD = PerfEventMmapPage.fields.dataHead.offset / 8;
const TAIL = PerfEventMmapPage.fields.dataTail.offset / 8;
/** Byte offset of `perf_event_header.size` (a u16) in a record. */
const SIZE_AT = PerfEventHeader.fields.size.offset;
/** A sample's size can be at most 64 KiB (`perf_event_header.size` is 16 bits). */
const SCRATCH = 1 << 16;
/** Samples copied per batch of `next()`. */
const BATCH = 1024;

/** One CPU's ring: its event, its mapping and the private views the walk reads it through. */
interface CpuRing {
  readonly cpu: number;
  readonly mapping: ArrayBuffer;
  /** The metadata page, for `data_head` (the kernel's) and `data_tail` (ours). */
  readonly meta: BigUint64Array;
  readonly u16: Uint16Array;
  readonly u32: Uint32Array;
  readonly record: Record;
  readonly mask: number;
  /** Our read position (mirrors `data_tail`; we are its only writer). */
  tail: number;
  /** Samples the kernel dropped because this ring was full (from PERF_RECORD_LOST). */
  lost: number;
}

/** Samples handed out by the last `drain`. */
let drained = 0;

/**
 * Hands the samples of `ring` from its tail towards the kernel's head to `handler`, at most `max`;
 * adds PERF_RECORD_LOST counts to `ring.lost`. A sample that wraps the ring's end is copied whole
 * into `scratch` first. Publishes the new tail once, also when `handler` throws (the sample it
 * threw on counts as read). Sets `drained`.
 */
function drain(
  ring: CpuRing,
  scratch: Record,
  scratchBytes: Uint8Array,
  handler: PerfRecordHandler,
  max: number,
): void {
  const head = toNumber(atomicsLoad(ring.meta, HEAD)); // acquire: records below it are whole
  const { u16, u32, record, mask, cpu } = ring;
  const start = ring.tail;
  let tail = start;
  let count = 0;
  drained = 0;
  try {
    while (tail < head && count < max) {
      const off = tail & mask;
      const type = u32[off >>> 2]!;
      const size = u16[(off + SIZE_AT) >>> 1]!;
      if (size < HEADER) break; // never written by a sane kernel; do not spin on it
      tail += size;
      if (type === SAMPLE) {
        const at = (off + HEADER) & mask;
        const length = u32[at >>> 2]!;
        const data = (at + 4) & mask;
        count++;
        if (data + length <= mask + 1) {
          point(record, data, length);
          handler(record, cpu);
        } else {
          const first = mask + 1 - data;
          copyOut(record, data, first, scratchBytes, 0);
          copyOut(record, 0, length - first, scratchBytes, first);
          point(scratch, 0, length);
          handler(scratch, cpu);
        }
        if (isClosed(record)) break;
      } else if (type === LOST) {
        const at = (off + HEADER + 8) & mask; // after the event id
        const a = u32[at >>> 2]!;
        const b = u32[((at + 4) & mask) >>> 2]!;
        ring.lost += hostLittleEndian ? a + b * TWO32 : a * TWO32 + b;
      }
    }
  } finally {
    drained = count;
    release(record, false);
    release(scratch, false);
    if (tail !== start && !isClosed(record)) {
      ring.tail = tail;
      atomicsStore(ring.meta, TAIL, toBigInt(tail)); // release: the space is the kernel's again
    }
  }
}

function checkOptions(map: PerfBufferMap, options: PerfBufferOptions, page: number): number[] {
  const pageCount = options.pageCount ?? PAGE_COUNT;
  if (!Number.isInteger(pageCount) || pageCount < 1 || (pageCount & (pageCount - 1)) !== 0) {
    throw new InvalidArgumentError(
      `pageCount must be a power of two (1, 2, 4, ...), got ${String(pageCount)}`,
    );
  }
  const { watermark } = options;
  if (
    watermark !== undefined &&
    !(Number.isInteger(watermark) && watermark > 0 && watermark < pageCount * page)
  ) {
    throw new InvalidArgumentError(
      `watermark must be a byte count from 1 to below the ring's ${pageCount * page} bytes, got ${String(watermark)}`,
    );
  }
  const cpus = options.cpus ?? onlineCpus().filter((cpu) => cpu < map.maxEntries);
  const seen = new Set<number>();
  for (const cpu of cpus) {
    if (
      !Number.isInteger(cpu) ||
      cpu < 0 ||
      cpu >= possibleCpus() ||
      cpu >= map.maxEntries ||
      seen.has(cpu)
    ) {
      throw new InvalidArgumentError(
        `cpus must list distinct CPUs below ${Math.min(possibleCpus(), map.maxEntries)} (the possible CPUs and the map's maxEntries), got ${String(cpu)}`,
      );
    }
    seen.add(cpu);
  }
  if (cpus.length === 0) throw new InvalidArgumentError('cpus must name at least one CPU');
  return [...cpus];
}

/**
 * Reads the samples BPF programs write with `bpf_perf_event_output` into a
 * `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: one perf event (`PERF_COUNT_SW_BPF_OUTPUT`) per CPU, each with
 * its ring mapped into this process and put in the map at its CPU's index.
 *
 * - `consume(handler)` is the zero-copy path: every waiting sample is handed to `handler` with
 *   its CPU, as the same read-only {@link RingRecord} facade `RingBuffer.consume` uses; no
 *   allocation per sample.
 * - `next()` and `for await (const { cpu, data } of reader)` give copies you own, taken from the
 *   rings in batches.
 * - `lost` counts the samples the kernel dropped because a ring was full (`lostByCpu` per CPU):
 *   every sample written is either received or counted there.
 *
 * ```ts
 * using events = BpfMap.create({ type: 'perf_event_array' });
 * using reader = new PerfBuffer(events, { pageCount: 16 });
 * for await (const { cpu, data } of reader) handle(cpu, data);
 * ```
 *
 * The reader closes with the map it was made from; closing removes its events from the map and
 * closes every fd and mapping it made.
 */
export class PerfBuffer extends EventReader<PerfSampleCopy> {
  /** Bytes of each CPU's ring (pageCount pages). */
  readonly size: number;
  /** The CPUs read, in the order `consume` visits them. */
  readonly cpus: readonly number[];
  #rings: CpuRing[] = [];
  readonly #scratchBytes = new U8(new ArrayBuffer(SCRATCH));
  readonly #scratch = recordIn(new Area(this.#scratchBytes.buffer, 0, SCRATCH));
  /** Copies taken for `next()`, and how many of them it has handed out. */
  readonly #queue: PerfSampleCopy[] = [];
  #queued = 0;
  readonly #enqueue: PerfRecordHandler = (record, cpu) => {
    this.#queue.push({ cpu, data: record.bytes() });
  };

  constructor(map: PerfBufferMap, options: PerfBufferOptions = {}) {
    if (map.typeName !== 'perf_event_array') {
      throw new InvalidArgumentError(`PerfBuffer reads perf_event_array maps; this is a ${map.typeName} map`);
    }
    const page = pageSize();
    const cpus = checkOptions(map, options, page);
    let fd: number;
    try {
      fd = sys.dup(map.fd);
    } catch (error) {
      throw translateSysError(error, 'duplicating the perf event array fd');
    }
    super(fd, 'perf buffer', map);
    this.cpus = cpus;
    this.size = (options.pageCount ?? PAGE_COUNT) * page;
    const attr = new AttrBuffer(PerfEventAttr)
      .u32('type', PerfType.Software)
      .u32('size', PerfEventAttr.size)
      .u64('config', PerfSwId.BpfOutput)
      .u64('samplePeriod', 1)
      .u64('sampleType', PerfSample.Raw);
    if (options.watermark === undefined) attr.u32('wakeupEvents', 1);
    else attr.u64('watermark', 1).u32('wakeupWatermark', options.watermark);
    try {
      for (const cpu of cpus) this.#open(cpu, attr.bytes);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Opens `cpu`'s event, maps its ring and puts it in the map. */
  #open(cpu: number, attr: Uint8Array): void {
    let event: number;
    try {
      event = sys.perfEventOpen(attr, -1, cpu, -1, 0);
    } catch (error) {
      throw translateSysError(error, `opening the perf event of CPU ${cpu}`);
    }
    this.own(event);
    let mapping: ArrayBuffer;
    try {
      mapping = sys.mmapPerfRingUnchecked(event, pageSize() + this.size);
    } catch (error) {
      throw translateSysError(error, `mapping the perf ring of CPU ${cpu}`);
    }
    const page = pageSize();
    const meta = new BU64(mapping, 0, page / 8);
    const ring: CpuRing = {
      cpu,
      mapping,
      meta,
      u16: new U16(mapping, page, this.size / 2),
      u32: new U32(mapping, page, this.size / 4),
      record: recordIn(new Area(mapping, page, this.size)),
      mask: this.size - 1,
      tail: toNumber(meta[TAIL]),
      lost: 0,
    };
    this.#rings.push(ring);
    const key = new U8(new U32([cpu]).buffer);
    const value = new U8(new U32([event]).buffer);
    try {
      sys.mapUpdate(this.fd, key, value, 0);
    } catch (error) {
      throw translateSysError(error, `putting CPU ${cpu}'s perf event into the perf event array`);
    }
    this.readiness.add(event);
  }

  /**
   * Samples the kernel dropped because a ring was full, in total, as read so far: the kernel
   * reports a ring's losses with the next sample it manages to write there.
   */
  get lost(): number {
    let lost = 0;
    for (const ring of this.#rings) lost += ring.lost;
    return lost;
  }

  /** `lost` per CPU, indexed by CPU number (0 for CPUs not read). */
  get lostByCpu(): number[] {
    const lost = new Array<number>(possibleCpus()).fill(0);
    for (const ring of this.#rings) lost[ring.cpu] = ring.lost;
    return lost;
  }

  /**
   * The zero-copy path: calls `handler` for every sample written so far (up to `limit`), CPU by
   * CPU, with a {@link RingRecord} reading the ring in place (a sample that wraps the ring's end
   * is copied into private memory first). Returns how many samples were handed out. Each ring's
   * space goes back to the kernel once per call (also when `handler` throws: the sample it threw
   * on counts as read). Closing the reader from `handler` stops the walk.
   */
  consume(handler: PerfRecordHandler, limit = Number.POSITIVE_INFINITY): number {
    this.check();
    if (typeof handler !== 'function') throw new InvalidArgumentError('consume() takes a function');
    let count = 0;
    this.consuming = true;
    try {
      for (const ring of this.#rings) {
        if (count >= limit) break;
        drain(ring, this.#scratch, this.#scratchBytes, handler, limit - count);
        count += drained;
        if (this.closed) break;
      }
    } finally {
      this.consuming = false;
    }
    return count;
  }

  protected takeMany(max: number): PerfSampleCopy[] | undefined {
    return takeEach(() => this.take(), max);
  }

  protected take(): PerfSampleCopy | undefined {
    const queue = this.#queue;
    if (this.#queued === queue.length) {
      queue.length = 0;
      this.#queued = 0;
      this.consume(this.#enqueue, BATCH);
      if (queue.length === 0) return undefined;
    }
    return queue[this.#queued++];
  }

  /**
   * Decodes one sample per call, in place: an iterator holds no samples it has not given (a loop
   * that breaks loses none), and one the codec refuses stops at that sample. Samples `next()`
   * took in its last batch are not among them: they stay for `next()`.
   */
  protected decoder<V>(codec: Codec<V>): () => V | undefined {
    let value: V | undefined;
    const decode: PerfRecordHandler = (record) => {
      value = record.decode(codec);
    };
    return () => {
      value = undefined;
      this.consume(decode, 1);
      return value;
    };
  }

  /** Whether a sample (or a lost-samples count) is waiting, taken already or in some ring. */
  protected pending(): boolean {
    if (this.#queued < this.#queue.length) return true;
    for (const ring of this.#rings) if (toNumber(atomicsLoad(ring.meta, HEAD)) > ring.tail) return true;
    return false;
  }

  /** Removes the reader's events from the map and unmaps the rings (the events close after). */
  protected teardown(): void {
    const key = new U8(4);
    for (const ring of this.#rings) {
      release(ring.record, true);
      new U32(key.buffer)[0] = ring.cpu;
      try {
        sys.mapDelete(this.fd, key);
      } catch {
        // The map may be gone already; the event is closed either way.
      }
      sys.munmap(ring.mapping);
    }
    this.#rings = [];
  }
}
