/**
 * W5 ring buffer: 16 MiB BPF_MAP_TYPE_RINGBUF filled (untimed) by one test run, repeat 8,192, of
 * an XDP program calling bpf_ringbuf_output 64 times with `{ u64 i, u64 0x5eed }`: 524,288
 * records. Timed: consume them all, summing each record's first u64; count and sum checked.
 * Figure: events/s. `sys`: JavaScript walking the ring mapped with `@ebpf/sys` mmap, as the C
 * baseline does (consumer page read-write, producer page and data twice read-only, acquire loads,
 * stop at BUSY, skip DISCARD, one release store of the consumer position per drained batch);
 * `sys-drain` (not a BENCH.md layer): `sys.ringbufDrain` copies each batch of committed records
 * into our memory in one native call (acquire loads and the consumer store in C), then JS sums it
 * with plain loads, correct on every architecture;
 * `core`: the `@ebpf/core` ring buffer reader's `consume`; for information, `core-next`: its `next()`,
 * a record of its own per call, read from a copy `ringbufDrain` takes in batches; `core-transient`:
 * `nextTransient()`, the same batches read through one reused facade; `core-await`: `for await`
 * over the reader (a promise per record); `core-batches`: `for await` over `reader.batches()`, a
 * promise per batch, and a plain loop over each batch's records.
 * Usage: w5-ringbuf.ts sys|sys-plain|sys-drain|core|core-next|core-transient|core-await|core-batches
 */
import type * as Core from '@ebpf/core';
import { buffer, check, type Layer, landed, layerArg, measure, type Prepared } from '../harness.ts';
import { eventProducerProgram } from '../programs.ts';
import { createMap, type Floor, floor, loadProgram } from '../sys-floor.ts';

const ID = 'W5.ringbuf.consume';
const SIZE = 16 << 20;
const REPEAT = 8_192;
const RECORDS = REPEAT * 64;
const EXPECTED_SUM = REPEAT * 2_016;
const TWO32 = 2 ** 32;
/**
 * `sys` reads each record header with `Atomics.load` (an acquire load, as C does). `sys-plain`
 * (not a BENCH.md layer) reads it with a plain load, to show what Atomics.load costs: x86-64 loads
 * are acquire loads in hardware and V8 keeps typed-array loads in program order, but JavaScript
 * does not promise that ordering, and arm64 hardware would not give it.
 */
const ACQUIRE = process.argv[2] !== 'sys-plain';
/** `sys-drain`: the batch buffer `sys.ringbufDrain` copies into, and its record spans. */
const DRAIN_BYTES = 1 << 18;
const DRAIN_RECORDS = 1024;

/** The untimed fill: one test run of the producer program, repeat 8,192, 64-byte packet. */
function filler({ sys, uapi }: Floor, prog: number): () => void {
  const packet = buffer(64);
  const a = new uapi.AttrBuffer(uapi.TestRunAttr);
  return () => {
    a.reset().u32('progFd', prog).pointer('dataIn', packet).u32('dataSizeIn', 64).u32('repeat', REPEAT);
    sys.bpf(uapi.Cmd.ProgTestRun, a.bytes, a.pointers);
    check(a.getU32('retval') === 2, 'fill retval');
  };
}

async function sysLayer(): Promise<Prepared> {
  const f = await floor(['mmap', 'mmapReadOnlyUnchecked', 'pageSize', 'ringbufDrain']);
  if ('reason' in f) return f;
  const { sys, uapi } = f;
  const map = createMap(f, uapi.MapType.Ringbuf, 0, 0, SIZE);
  const prog = loadProgram(f, uapi.ProgType.Xdp, eventProducerProgram(map, false));
  const page = sys.pageSize();
  const consPos = new BigUint64Array(sys.mmap(map, page, true, 0));
  const producer = sys.mmapReadOnlyUnchecked(map, page + 2 * SIZE, page);
  const prodPos = new BigUint64Array(producer, 0, 1);
  const data = new Uint32Array(producer, page);
  const wordMask = SIZE / 4 - 1;
  const { BusyBit: BUSY, DiscardBit: DISCARD, HdrSz: HDR } = uapi.RingbufHeader;
  const drainOut = new Uint8Array(new ArrayBuffer(DRAIN_BYTES));
  const drainWords = new Uint32Array(drainOut.buffer);
  const spans = new Uint32Array(new ArrayBuffer(8 * DRAIN_RECORDS));
  /** The native drain: one call copies a batch into our memory; JS reads it with plain loads. */
  const drain = () => {
    let count = 0;
    let lo = 0;
    let hi = 0;
    while (count < RECORDS) {
      const n = sys.ringbufDrain(consPos.buffer as ArrayBuffer, producer, drainOut, spans);
      check(n >= 0, `ringbufDrain returned ${n}`);
      if (n === 0) break;
      for (let i = 0; i < 2 * n; i += 2) {
        const word = spans[i]! >>> 2;
        lo += drainWords[word]!;
        hi += drainWords[word + 1]!;
      }
      count += n;
    }
    const sum = lo + hi * TWO32;
    check(count === RECORDS && sum === EXPECTED_SUM, `consumed ${count} records, sum ${sum}`);
  };
  const consume = () => {
    let count = 0;
    let lo = 0; // the records' first u64, low and high halves summed apart
    let hi = 0;
    while (count < RECORDS) {
      let cons = Number(consPos[0]);
      const prod = Number(Atomics.load(prodPos, 0));
      if (cons === prod) break; // everything was produced before the clock started
      let word = (cons % SIZE) >>> 2; // record header position, in 32-bit words
      while (cons < prod) {
        const len = ACQUIRE ? Atomics.load(data, word) : data[word]!;
        if (len & BUSY) break;
        if (!(len & DISCARD)) {
          lo += data[word + 2]!;
          hi += data[word + 3]!;
          count++;
        }
        const step = ((len & ~(BUSY | DISCARD)) + HDR + 7) & ~7;
        cons += step;
        word = (word + (step >>> 2)) & wordMask;
      }
      Atomics.store(consPos, 0, BigInt(cons));
    }
    const sum = lo + hi * TWO32;
    check(count === RECORDS && sum === EXPECTED_SUM, `consumed ${count} records, sum ${sum}`);
  };
  const loop = process.argv[2] === 'sys-drain' ? drain : consume;
  return { timed: [{ id: ID, unit: 'ops/s', ops: RECORDS, before: filler(f, prog), loop }] };
}

/** The low 32 bits of a copied record's first u64 (the sum stays below 2^32 here). */
function low32(bytes: Uint8Array): number {
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16)) + bytes[3]! * 2 ** 24;
}

/**
 * `new RingBuffer(map).consume(fn)`: the reader hands each record to `fn` as a read-only facade on
 * the ring; `next()` returns each as a `Uint8Array` view of a batch copy, `nextTransient()` as one
 * reused facade on that copy; `for await` loops over `next()`, and over `batches()` (owned
 * records on the same copies) by the array.
 */
async function coreLayer(layer: Layer): Promise<Prepared> {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfMap', 'BpfProgram', 'RingBuffer']);
  if ('reason' in core) return core;
  const { BpfMap, BpfProgram, RingBuffer } = core.mod;
  const map = BpfMap.create({ type: 'ringbuf', maxEntries: SIZE });
  const prog = BpfProgram.load({
    type: 'xdp',
    instructions: eventProducerProgram(map.fd, false),
    license: 'GPL',
  });
  const reader = new RingBuffer(map);
  const fill = { data: buffer(64), dataOut: buffer(0), repeat: REPEAT };
  let sum = 0;
  const onRecord = (record: Core.RingRecord): void => {
    sum += record.u64n(0);
  };
  const done = (count: number) =>
    check(count === RECORDS && sum === EXPECTED_SUM, `consumed ${count} records, sum ${sum}`);
  const drain = () => {
    sum = 0;
    let count = 0;
    if (layer === 'core-next') {
      for (let bytes = reader.next(); bytes; bytes = reader.next()) {
        sum += low32(bytes);
        count++;
      }
    } else if (layer === 'core-transient') {
      for (let record = reader.nextTransient(); record; record = reader.nextTransient()) {
        sum += record.u64n(0);
        count++;
      }
    } else {
      count = reader.consume(onRecord);
    }
    done(count);
  };
  // Everything was produced before the clock started: the loop ends once the last record is in.
  const iterate = async () => {
    sum = 0;
    let count = 0;
    if (layer === 'core-batches') {
      for await (const records of reader.batches()) {
        for (const record of records) sum += record.u64n(0);
        count += records.length;
        if (count === RECORDS) break;
      }
    } else {
      for await (const bytes of reader) {
        sum += low32(bytes);
        if (++count === RECORDS) break;
      }
    }
    done(count);
  };
  return {
    timed: [
      {
        id: ID,
        unit: 'ops/s',
        ops: RECORDS,
        before() {
          check(prog.run(fill).retval === 2, 'fill retval');
        },
        loop: layer === 'core-await' || layer === 'core-batches' ? iterate : drain,
      },
    ],
  };
}

const layer = layerArg([
  'sys',
  'sys-plain',
  'sys-drain',
  'core',
  'core-next',
  'core-transient',
  'core-await',
  'core-batches',
]);
await measure(layer, [ID], layer.startsWith('sys') ? await sysLayer() : await coreLayer(layer));
