import { type Codec, type CodecLike, type CodecType, resolveCodec } from './codec.ts';

/**
 * One field of a struct: `[codec, offset]` (offset in bytes from the start of the struct), or just
 * a codec, placed after the previous field at its natural alignment (like a C compiler would).
 */
export type StructField = CodecLike | readonly [CodecLike, number];

/** The fields of a struct, in declaration order. */
export type StructFields = { readonly [name: string]: StructField };

/** The JavaScript object a struct codec reads and writes. */
export type StructValue<F extends StructFields> = {
  -readonly [K in keyof F]: F[K] extends readonly [infer C, number] ? CodecType<C> : CodecType<F[K]>;
};

/** Options of `struct()`. */
export interface StructOptions {
  /** Total size in bytes, when larger than the end of the last field (trailing padding). */
  size?: number;
  /** Name shown in errors. */
  name?: string;
}

/**
 * A codec for a fixed-size C struct described in TypeScript:
 * ```ts
 * const flow = struct({ saddr: ['u32', 0], daddr: ['u32', 4], sport: ['u16', 8], dport: ['u16', 10] });
 * // or with C layout rules: struct({ pid: 'u32', bytes: 'u64' }) has pid at 0, bytes at 8, size 16
 * ```
 * Padding bytes are written as zero (the kernel compares hash keys byte by byte).
 */
export function struct<const F extends StructFields>(
  fields: F,
  options: StructOptions = {},
): Codec<StructValue<F>> & {
  readonly fields: ReadonlyArray<{ name: string; offset: number; codec: Codec<unknown> }>;
} {
  const layout: { name: string; offset: number; codec: Codec<unknown> }[] = [];
  let end = 0;
  let align = 1;
  for (const [name, spec] of Object.entries(fields)) {
    const [codecLike, explicit] = Array.isArray(spec)
      ? (spec as [CodecLike, number])
      : [spec as CodecLike, undefined];
    const codec = resolveCodec(codecLike);
    const fieldAlign = codec.align;
    align = Math.max(align, fieldAlign);
    const offset = explicit ?? Math.ceil(end / fieldAlign) * fieldAlign;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new RangeError(`struct field '${name}': offset must be an integer >= 0`);
    }
    layout.push({ name, offset, codec });
    end = Math.max(end, offset + codec.size);
  }
  const natural = Math.ceil(end / align) * align;
  const size = options.size ?? natural;
  if (!Number.isInteger(size) || size < end) {
    throw new RangeError(`struct size ${String(size)} is smaller than its fields, which end at byte ${end}`);
  }
  const name =
    options.name ?? `struct { ${layout.map((f) => `${f.name}: ${f.codec.name} @${f.offset}`).join(', ')} }`;
  // Byte ranges not covered by any field: zeroed on write.
  const covered = new Uint8Array(size);
  for (const f of layout) covered.fill(1, f.offset, f.offset + f.codec.size);
  const gaps: [number, number][] = [];
  for (let i = 0; i < size; i++) {
    if (covered[i]) continue;
    let j = i;
    while (j < size && !covered[j]) j++;
    gaps.push([i, j]);
    i = j;
  }
  // Bitfields write only their bits: the bytes they share are zeroed first, so no bit of an earlier value stays.
  const shared = layout
    .filter((f) => 'bits' in f.codec)
    .map((f): [number, number] => [f.offset, f.offset + f.codec.size]);
  const count = layout.length;
  return Object.freeze({
    name,
    size,
    align,
    fields: Object.freeze(layout.map((f) => Object.freeze(f))),
    write(view: DataView, offset: number, value: StructValue<F>): void {
      if (value === null || typeof value !== 'object')
        throw new TypeError(`${name}: value must be an object`);
      for (const [from, to] of shared) for (let i = from; i < to; i++) view.setUint8(offset + i, 0);
      for (let i = 0; i < count; i++) {
        const f = layout[i]!;
        const v = (value as Record<string, unknown>)[f.name];
        if (v === undefined) throw new TypeError(`${name}: field '${f.name}' is missing`);
        try {
          f.codec.write(view, offset + f.offset, v);
        } catch (error) {
          throw new (error instanceof RangeError ? RangeError : TypeError)(
            `field '${f.name}': ${(error as Error).message}`,
          );
        }
      }
      for (const [from, to] of gaps) for (let i = from; i < to; i++) view.setUint8(offset + i, 0);
    },
    read(view: DataView, offset: number): StructValue<F> {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) {
        const f = layout[i]!;
        out[f.name] = f.codec.read(view, offset + f.offset);
      }
      return out as StructValue<F>;
    },
  });
}

/**
 * A fixed-length array of `length` elements of one codec, packed back to back
 * (`array('u32', 4)` is `__u32 x[4]`). Reads return a JavaScript array; writes take any array-like of
 * exactly `length` elements.
 */
export function array<C extends CodecLike>(element: C, length: number): Codec<CodecType<C>[]> {
  const codec = resolveCodec(element) as Codec<CodecType<C>>;
  if (!Number.isInteger(length) || length < 0)
    throw new RangeError('array(codec, length): length must be >= 0');
  const stride = codec.size;
  const name = `${codec.name}[${length}]`;
  return Object.freeze({
    name,
    size: stride * length,
    align: codec.align,
    write(view: DataView, offset: number, value: ArrayLike<CodecType<C>>): void {
      if (value === null || typeof value !== 'object' || typeof value.length !== 'number') {
        throw new TypeError(`${name}: value must be an array`);
      }
      if (value.length !== length)
        throw new RangeError(`${name}: value must have ${length} elements, got ${value.length}`);
      for (let i = 0; i < length; i++) codec.write(view, offset + i * stride, value[i]!);
    },
    read(view: DataView, offset: number): CodecType<C>[] {
      const out = new Array<CodecType<C>>(length);
      for (let i = 0; i < length; i++) out[i] = codec.read(view, offset + i * stride);
      return out;
    },
  });
}
