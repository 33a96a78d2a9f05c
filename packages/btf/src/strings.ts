/**
 * Decoding BTF names without `TextDecoder` (the package compiles against the bare ES2023 library,
 * for browsers and Node alike). Names are C identifiers, so ASCII is the path that must be fast.
 */

/** The UTF-8 text of `bytes[start, end)`; malformed sequences are kept byte by byte as Latin-1. */
export function decodeName(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  const chars = bytes.subarray(start, end);
  if (ascii) return String.fromCharCode.apply(null, chars as unknown as number[]);
  let escaped = '';
  for (const b of chars) escaped += `%${b.toString(16).padStart(2, '0')}`;
  try {
    return decodeURIComponent(escaped);
  } catch {
    return String.fromCharCode.apply(null, chars as unknown as number[]);
  }
}

/** The UTF-8 bytes of `s`; undefined for a lone surrogate, which UTF-8 cannot carry. */
export function encodeName(s: string): Uint8Array | undefined {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encodeUtf8(s);
    out[i] = c;
  }
  return out;
}

function encodeUtf8(s: string): Uint8Array | undefined {
  let binary: string;
  try {
    binary = unescape(encodeURIComponent(s));
  } catch {
    return undefined;
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
