import { bytes, type Codec, type CodecLike, type CodecType, resolveCodec } from './codec.ts';

/** A key of an LPM trie map: the first `prefixLen` bits of `data` are significant. */
export interface LpmKey<T = Uint8Array> {
  /** Number of significant leading bits of `data`, from 0 to 8 × data size. */
  prefixLen: number;
  /** The address (or any bit string) in network order. */
  data: T;
}

/**
 * The codec of `struct bpf_lpm_trie_key_u8`: a host-order u32 prefix length followed by the data.
 * `data` is a byte count (data as `Uint8Array`) or a codec (`lpmKey(ipv4)` takes `'10.0.0.0'`).
 */
export function lpmKey(data: number): Codec<LpmKey<Uint8Array>>;
export function lpmKey<C extends CodecLike>(data: C): Codec<LpmKey<CodecType<C>>>;
export function lpmKey(data: number | CodecLike): Codec<LpmKey<unknown>> {
  const codec = (typeof data === 'number' ? bytes(data) : resolveCodec(data)) as Codec<unknown>;
  const bits = codec.size * 8;
  const name = `lpm(${codec.name})`;
  return Object.freeze({
    name,
    size: 4 + codec.size,
    // struct bpf_lpm_trie_key: a u32 prefix length, then the data.
    align: Math.max(4, codec.align),
    write(view: DataView, offset: number, value: LpmKey<unknown>): void {
      if (value === null || typeof value !== 'object') {
        throw new TypeError(`${name}: an LPM key is an object { prefixLen, data }`);
      }
      const { prefixLen } = value;
      if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > bits) {
        throw new RangeError(
          `${name}: prefixLen must be an integer in [0, ${bits}], got ${String(prefixLen)}`,
        );
      }
      view.setUint32(offset, prefixLen, true);
      codec.write(view, offset + 4, value.data);
    },
    read(view: DataView, offset: number): LpmKey<unknown> {
      return { prefixLen: view.getUint32(offset, true), data: codec.read(view, offset + 4) };
    },
  });
}

/** An IPv4 address as a dotted-quad string ('10.0.0.1'), stored as 4 bytes in network order. */
export const ipv4: Codec<string> = Object.freeze({
  name: 'ipv4',
  size: 4,
  align: 4, // a __be32
  write(view: DataView, offset: number, value: string): void {
    const parts = typeof value === 'string' ? value.split('.') : [];
    if (parts.length !== 4) throw new TypeError(`ipv4: '${String(value)}' is not a dotted-quad IPv4 address`);
    for (let i = 0; i < 4; i++) {
      const part = parts[i]!;
      const n = Number(part);
      if (!/^\d{1,3}$/.test(part) || n > 255)
        throw new TypeError(`ipv4: '${value}' is not a valid IPv4 address`);
      view.setUint8(offset + i, n);
    }
  },
  read(view: DataView, offset: number): string {
    return `${view.getUint8(offset)}.${view.getUint8(offset + 1)}.${view.getUint8(offset + 2)}.${view.getUint8(offset + 3)}`;
  },
});
