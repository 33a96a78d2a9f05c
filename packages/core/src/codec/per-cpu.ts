import { type Codec, type CodecLike, type CodecType, resolveCodec } from './codec.ts';

/** The kernel lays per-CPU values out one per possible CPU, each rounded up to 8 bytes. */
export function perCpuStride(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/**
 * The codec of a per-CPU value: `cpus` values of `element`, each in an 8-byte-rounded slot.
 * Reads return one value per possible CPU (index = CPU number); writes take exactly `cpus` values.
 * Padding bytes are written as zero.
 */
export function perCpu<C extends CodecLike>(element: C, cpus: number): Codec<CodecType<C>[]> {
  const codec = resolveCodec(element) as Codec<CodecType<C>>;
  if (!Number.isInteger(cpus) || cpus < 1) throw new RangeError('perCpu(codec, cpus): cpus must be >= 1');
  const stride = perCpuStride(codec.size);
  const pad = stride - codec.size;
  const name = `percpu(${codec.name} x ${cpus})`;
  return Object.freeze({
    name,
    size: stride * cpus,
    align: 8,
    write(view: DataView, offset: number, value: ArrayLike<CodecType<C>>): void {
      if (value === null || typeof value !== 'object' || typeof value.length !== 'number') {
        throw new TypeError(`${name}: a per-CPU value is an array with one value per possible CPU (${cpus})`);
      }
      if (value.length !== cpus) {
        throw new RangeError(`${name}: expected one value per possible CPU (${cpus}), got ${value.length}`);
      }
      for (let i = 0; i < cpus; i++) {
        const at = offset + i * stride;
        codec.write(view, at, value[i]!);
        for (let j = 0; j < pad; j++) view.setUint8(at + codec.size + j, 0);
      }
    },
    read(view: DataView, offset: number): CodecType<C>[] {
      const out = new Array<CodecType<C>>(cpus);
      for (let i = 0; i < cpus; i++) out[i] = codec.read(view, offset + i * stride);
      return out;
    },
  });
}

/** An object that owns a kernel fd: a map, a program, or anything with an `fd`. */
export interface HasFd {
  readonly fd: number;
}

/**
 * The value codec of maps that hold other objects (program arrays, maps of maps, perf event
 * arrays, sockmaps...): writes take an fd or an object with an `fd` (a `BpfMap`, a `BpfProgram`);
 * reads return what the kernel returns from user space, the object's id.
 */
export const fdValue: Codec<number | HasFd> = Object.freeze({
  name: 'fd',
  size: 4,
  align: 4,
  write(view: DataView, offset: number, value: number | HasFd): void {
    const fd =
      typeof value === 'number' ? value : value !== null && typeof value === 'object' ? value.fd : Number.NaN;
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw new TypeError('value must be a file descriptor or an object with an fd (a map, a program...)');
    }
    view.setUint32(offset, fd, true);
  },
  read: (view: DataView, offset: number): number => view.getUint32(offset, true),
});
