/** IPv4 prefixes as people write them (`10.0.0.0/8`, `192.0.2.7`) and as LPM trie keys. */
import { InvalidArgumentError, type LpmKey } from '@ebpf/core';

const PREFIX = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/;

/**
 * The LPM key of `text`, host bits cleared (so `10.1.2.3/8` and `10.0.0.0/8` are one prefix);
 * a bare address is a /32.
 */
export function parsePrefix(text: string): LpmKey<string> {
  const match = PREFIX.exec(text);
  const octets = match?.slice(1, 5).map(Number) ?? [];
  const prefixLen = Number(match?.[5] ?? 32);
  if (match === null || octets.some((o) => o > 255) || prefixLen > 32) {
    throw new InvalidArgumentError(
      `'${text}' is not an IPv4 prefix: write an address (192.0.2.7) or an address and a length up to 32 (10.0.0.0/8)`,
    );
  }
  const address = octets.reduce((n, octet) => n * 256 + octet, 0);
  const mask = prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
  const network = (address & mask) >>> 0;
  const data = [24, 16, 8, 0].map((shift) => (network >>> shift) & 0xff).join('.');
  return { prefixLen, data };
}

/** `10.0.0.0/8` */
export const formatPrefix = ({ prefixLen, data }: LpmKey<string>): string => `${data}/${prefixLen}`;
