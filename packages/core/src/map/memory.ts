import * as sys from '@ebpf/sys';
import { MapFlags } from '@ebpf/uapi';
import { perCpuStride } from '../codec/per-cpu.ts';
import { ClosedError, InvalidArgumentError, translateSysError } from '../errors.ts';
import { pageSize } from '../system.ts';
import type { MapElements } from './elements.ts';
import type { BpfMap } from './map.ts';

/**
 * Typed views straight onto the memory of a `BPF_F_MMAPABLE` array map: element `i` of a map with
 * 8-byte values is `memory.u64[i]` (or `u32[2 * i]`, `u32[2 * i + 1]`). Reads and writes cost no
 * system call and are seen by BPF programs at once. Views are created on first use and shared.
 *
 * The mapping goes away when the map (or this object) is closed: the getters then throw
 * `ClosedError`, and typed arrays taken earlier become detached (length 0).
 */
export class MapMemory {
  #buffer: ArrayBuffer | undefined;
  #u8: Uint8Array | undefined;
  #u16: Uint16Array | undefined;
  #u32: Uint32Array | undefined;
  #i32: Int32Array | undefined;
  #u64: BigUint64Array | undefined;
  #i64: BigInt64Array | undefined;
  #f64: Float64Array | undefined;
  #view: DataView | undefined;
  /** Bytes from one element to the next (the value size rounded up to 8). */
  readonly elementSize: number;
  /** Number of elements (the map's maxEntries). */
  readonly length: number;

  /** @internal Use `map.memory()`. */
  constructor(fd: number, byteLength: number, elementSize: number, length: number) {
    this.#buffer = sys.mmap(fd, byteLength, true);
    this.elementSize = elementSize;
    this.length = length;
  }

  #live(): ArrayBuffer {
    const buffer = this.#buffer;
    if (buffer === undefined) throw new ClosedError('this map memory is unmapped (its map was closed)');
    return buffer;
  }

  /** The mapped memory (page-rounded length). */
  get buffer(): ArrayBuffer {
    return this.#live();
  }
  /** The mapping as bytes. */
  get u8(): Uint8Array {
    const b = this.#live();
    this.#u8 ??= new Uint8Array(b);
    return this.#u8;
  }
  /** The mapping as 16-bit unsigned elements. */
  get u16(): Uint16Array {
    const b = this.#live();
    this.#u16 ??= new Uint16Array(b);
    return this.#u16;
  }
  /** The fastest view: 32-bit typed array access is what reaches hundreds of millions of ops/s. */
  get u32(): Uint32Array {
    const b = this.#live();
    this.#u32 ??= new Uint32Array(b);
    return this.#u32;
  }
  /** The mapping as 32-bit signed elements. */
  get i32(): Int32Array {
    const b = this.#live();
    this.#i32 ??= new Int32Array(b);
    return this.#i32;
  }
  /** 64-bit elements as bigint (about 50 times slower to write than `u32`). */
  get u64(): BigUint64Array {
    const b = this.#live();
    this.#u64 ??= new BigUint64Array(b);
    return this.#u64;
  }
  /** 64-bit signed elements as bigint (as slow to write as `u64`). */
  get i64(): BigInt64Array {
    const b = this.#live();
    this.#i64 ??= new BigInt64Array(b);
    return this.#i64;
  }
  /** The mapping as 64-bit floats. */
  get f64(): Float64Array {
    const b = this.#live();
    this.#f64 ??= new Float64Array(b);
    return this.#f64;
  }
  /** A DataView over the whole mapping, for structs. */
  get view(): DataView {
    const b = this.#live();
    this.#view ??= new DataView(b);
    return this.#view;
  }

  /** The bytes of element `index` (a view, not a copy). */
  element(index: number): Uint8Array {
    const b = this.#live();
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(`element index must be in [0, ${this.length}), got ${String(index)}`);
    }
    return new Uint8Array(b, index * this.elementSize, this.elementSize);
  }

  /** Whether the mapping was released. */
  get closed(): boolean {
    return this.#buffer === undefined;
  }

  /** Unmaps the memory. Closing twice is a no-op. The map itself stays open. */
  close(): void {
    const buffer = this.#buffer;
    if (buffer === undefined) return;
    this.#buffer = undefined;
    this.#u8 = this.#u16 = this.#u32 = this.#i32 = undefined;
    this.#u64 = undefined;
    this.#i64 = undefined;
    this.#f64 = undefined;
    this.#view = undefined;
    sys.munmap(buffer);
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Maps the memory of a `BPF_F_MMAPABLE` array (its values) or an arena (its pages), for
 * `map.memory()`. Refuses maps the kernel would map only read-only: JavaScript has no read-only
 * ArrayBuffer, and one write through a view would kill the process with SIGSEGV.
 */
export function mapMemory(
  map: Pick<BpfMap<unknown, unknown>, 'fd' | 'flags' | 'valueSize' | 'maxEntries'>,
  el: MapElements<unknown, unknown>,
  frozen: boolean,
): MapMemory {
  const { flags, maxEntries } = map;
  const arena = el.info?.name === 'arena';
  if (!(flags & MapFlags.Mmapable) || !(el.info?.name === 'array' || arena)) {
    throw new InvalidArgumentError(
      `memory(): ${el.label} is not mmapable; create an array map with flags: MapFlags.Mmapable`,
    );
  }
  const page = pageSize();
  // Arena: maxEntries pages, one "element" per page. Array: 8-byte-rounded values, page-rounded.
  const elementSize = arena ? page : perCpuStride(map.valueSize);
  const length = Math.ceil((elementSize * maxEntries) / page) * page;
  if (frozen || flags & MapFlags.Rdonly) {
    throw new InvalidArgumentError(
      `memory(): ${el.label} is ${frozen ? 'frozen' : 'read-only'}, and the kernel maps such maps only read-only, which JavaScript cannot guard; read its values with get() or lookupInto()`,
    );
  }
  try {
    return new MapMemory(map.fd, length, elementSize, maxEntries);
  } catch (error) {
    throw translateSysError(error, `mapping the memory of ${el.label}`);
  }
}
