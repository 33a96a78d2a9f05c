/**
 * UTF-8 encoding into a caller's buffer, written out by hand so `@ebpf/uapi` needs no
 * `TextEncoder` (it compiles against the bare ES2023 library, for browsers and Node alike) and
 * allocates nothing. Same output as `TextEncoder.encodeInto`: lone surrogates become U+FFFD.
 */

/**
 * Writes `text` as UTF-8 at the start of `target`. Returns the number of bytes written, or -1 when
 * the text does not fit (then `target` holds the characters that did fit, never half of one).
 */
export function encodeUtf8Into(text: string, target: Uint8Array): number {
  const end = target.length;
  let at = 0;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code < 0x80) {
      if (at + 1 > end) return -1;
      target[at++] = code;
      continue;
    }
    if (code < 0x800) {
      if (at + 2 > end) return -1;
      target[at++] = 0xc0 | (code >> 6);
      target[at++] = 0x80 | (code & 0x3f);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const low = code <= 0xdbff && i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low <= 0xdfff) {
        if (at + 4 > end) return -1;
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i++;
        target[at++] = 0xf0 | (code >> 18);
        target[at++] = 0x80 | ((code >> 12) & 0x3f);
        target[at++] = 0x80 | ((code >> 6) & 0x3f);
        target[at++] = 0x80 | (code & 0x3f);
        continue;
      }
      code = 0xfffd; // a lone surrogate has no UTF-8 form
    }
    if (at + 3 > end) return -1;
    target[at++] = 0xe0 | (code >> 12);
    target[at++] = 0x80 | ((code >> 6) & 0x3f);
    target[at++] = 0x80 | (code & 0x3f);
  }
  return at;
}
