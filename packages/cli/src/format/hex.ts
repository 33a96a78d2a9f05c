/**
 * A classic hex dump of `bytes`: offset, 16 bytes in hex (two groups of 8), and the printable
 * ASCII, one line per 16 bytes, each line ending in a newline.
 */
export function hexDump(bytes: Uint8Array): string {
  let out = '';
  for (let off = 0; off < bytes.length; off += 16) {
    const chunk = bytes.subarray(off, Math.min(off + 16, bytes.length));
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      const b = chunk[i];
      hex += b === undefined ? '   ' : `${b.toString(16).padStart(2, '0')} `;
      if (b !== undefined) ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    out += `${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|\n`;
  }
  return out;
}

/**
 * Parses hex text into bytes. Accepts `0x` prefixes, whitespace, `:` and `-` separators
 * ("45 00 00 1c", "45:00", "0x4500001c"). Throws a `SyntaxError` naming the offending text.
 */
export function parseHex(text: string): Uint8Array {
  const clean = text
    .trim()
    .replace(/0x/gi, '')
    .replace(/[\s:,-]+/g, '');
  if (clean.length % 2 !== 0) throw new SyntaxError(`hex data has an odd number of digits (${clean.length})`);
  const bad = /[^0-9a-f]/i.exec(clean);
  if (bad) throw new SyntaxError(`'${bad[0]}' is not a hex digit`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
}
