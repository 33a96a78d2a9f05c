import * as sys from '@ebpf/sys';
import { RingbufHeader } from '@ebpf/uapi';
import { ClosedError, InvalidArgumentError, translateSysError } from '../errors.ts';
import { KernelObject, onClose } from '../kernel-object.ts';
import { pageSize } from '../system.ts';
import { atomicsLoad, atomicsStore, BU64, toBigInt, toNumber, U8, U32 } from './record.ts';

const { BusyBit: BUSY, DiscardBit: DISCARD, HdrSz: HEADER } = RingbufHeader;

/** What `UserRingBuffer` needs of a map: a `BpfMap` of type 'user_ringbuf'. */
export interface UserRingBufferMap {
  readonly fd: number;
  readonly typeName: string;
  readonly maxEntries: number;
}

/**
 * Writes records into a `BPF_MAP_TYPE_USER_RINGBUF` map for BPF programs to drain with
 * `bpf_user_ringbuf_drain`: user space is the producer. `reserve(size)` returns a writable view of
 * the record's place in the ring (the data is mapped twice, so a record is contiguous even where
 * it wraps); fill it and `submit` it (or `discard` it). `write(bytes)` does all three.
 *
 * ```ts
 * using commands = BpfMap.create({ type: 'user_ringbuf', maxEntries: 1 << 16 });
 * using ring = new UserRingBuffer(commands);
 * const record = ring.reserve(16);
 * if (record) { new DataView(record.buffer, record.byteOffset).setUint32(0, 7, true); ring.submit(record); }
 * ```
 *
 * Records reach programs in the order they were reserved; a program's drain stops at the first
 * one still reserved. Do not touch a record after submitting or discarding it: it is the
 * kernel's again. The writer holds its own fd (a duplicate) and closes with its map.
 */
export class UserRingBuffer extends KernelObject {
  /** Size of the data area in bytes (the map's maxEntries). */
  readonly size: number;
  #consumer: ArrayBuffer | undefined;
  #producer: ArrayBuffer | undefined;
  readonly #consPos: BigUint64Array;
  readonly #prodPos: BigUint64Array;
  /** The data area twice (writable), and its headers as 32-bit words. */
  readonly #data: Uint8Array;
  readonly #headers: Uint32Array;
  readonly #mask: number;
  /** Producer position (mirrors the kernel page; we are its only writer). */
  #prod: number;
  #unfollow: (() => void) | undefined;

  constructor(map: UserRingBufferMap) {
    if (map.typeName !== 'user_ringbuf') {
      throw new InvalidArgumentError(
        `UserRingBuffer writes user_ringbuf maps; this is a ${map.typeName} map`,
      );
    }
    let fd: number;
    try {
      fd = sys.dup(map.fd);
    } catch (error) {
      throw translateSysError(error, 'duplicating the user ring buffer fd');
    }
    super(fd, 'user ring buffer');
    this.size = map.maxEntries;
    this.#mask = this.size - 1;
    const page = pageSize();
    try {
      // The consumer page is the kernel's to write; we only read it (a JS write would fault).
      this.#consumer = sys.mmapReadOnlyUnchecked(fd, page, 0);
      this.#producer = sys.mmap(fd, page + 2 * this.size, true, page);
    } catch (error) {
      this.close();
      throw translateSysError(error, 'mapping the user ring buffer');
    }
    this.#consPos = new BU64(this.#consumer, 0, 1);
    this.#prodPos = new BU64(this.#producer, 0, 1);
    this.#data = new U8(this.#producer, page, 2 * this.size);
    this.#headers = new U32(this.#producer, page, (2 * this.size) / 4);
    this.#prod = toNumber(this.#prodPos[0]);
    const self = new WeakRef(this);
    if (map instanceof KernelObject) this.#unfollow = onClose(map, () => self.deref()?.close());
  }

  #check(): void {
    if (this.#producer === undefined) throw new ClosedError('this user ring buffer is closed');
  }

  /** Bytes programs have not drained yet (headers included). */
  get pendingBytes(): number {
    this.#check();
    return this.#prod - toNumber(atomicsLoad(this.#consPos, 0));
  }

  /**
   * Reserves a record of `size` bytes (1 to the ring's size less its 8-byte header) and returns a
   * writable view of it, or undefined when the ring has no room until programs drain it.
   */
  reserve(size: number): Uint8Array | undefined {
    this.#check();
    const total = (size + HEADER + 7) & ~7;
    if (!Number.isInteger(size) || size < 1 || total > this.size) {
      throw new InvalidArgumentError(
        `a user ring record must be 1 to ${this.size - HEADER} bytes (the ring's size less its header), got ${String(size)}`,
      );
    }
    const prod = this.#prod;
    if (prod - toNumber(atomicsLoad(this.#consPos, 0)) + total > this.size) return undefined;
    const off = prod & this.#mask;
    this.#headers[off >>> 2] = size | BUSY;
    this.#headers[(off >>> 2) + 1] = 0;
    this.#prod = prod + total;
    atomicsStore(this.#prodPos, 0, toBigInt(this.#prod)); // release: the header is written
    return this.#data.subarray(off + HEADER, off + HEADER + size);
  }

  /** Hands a reserved record to the programs that drain the ring. */
  submit(record: Uint8Array): void {
    this.#commit(record, 0);
  }

  /** Gives a reserved record back unread: programs skip it. */
  discard(record: Uint8Array): void {
    this.#commit(record, DISCARD);
  }

  /** Writes `bytes` as one record; false when the ring has no room for it now. */
  write(bytes: Uint8Array): boolean {
    const record = this.reserve(bytes.length);
    if (!record) return false;
    record.set(bytes);
    this.submit(record);
    return true;
  }

  #commit(record: Uint8Array, flag: number): void {
    this.#check();
    const at =
      record instanceof U8 && record.buffer === this.#producer ? record.byteOffset - pageSize() - HEADER : -1;
    const word = at >>> 2;
    const header = at >= 0 && (at & 7) === 0 && at < this.size ? this.#headers[word]! : 0;
    if (!(header & BUSY) || (header & ~(BUSY | DISCARD)) !== record.length) {
      throw new InvalidArgumentError('submit() and discard() take a record reserve() returned, once');
    }
    // Release: the record's bytes are written before the kernel sees it committed.
    atomicsStore(this.#headers, word, record.length | flag);
  }

  /** Unmaps the ring and closes the writer's fd; records reserved and not submitted are lost. */
  override close(): void {
    if (this.closed) return;
    this.#unfollow?.();
    this.#unfollow = undefined;
    if (this.#consumer) sys.munmap(this.#consumer);
    if (this.#producer) sys.munmap(this.#producer);
    this.#consumer = undefined;
    this.#producer = undefined;
    super.close();
  }
}
