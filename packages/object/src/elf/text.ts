/**
 * ELF names are byte strings; clang writes them as UTF-8. Decoded without `TextDecoder` so the
 * package compiles against the bare ES2023 library (browsers and Node alike). Bytes that are not
 * valid UTF-8 come out one character per byte, so a hostile name still reads as something.
 */
export function decodeName(bytes: Uint8Array): string {
  let ascii = true;
  for (const byte of bytes) if (byte >= 0x80) ascii = false;
  if (ascii) return latin1(bytes);
  let escaped = '';
  for (const byte of bytes) escaped += `%${byte.toString(16).padStart(2, '0')}`;
  try {
    return decodeURIComponent(escaped);
  } catch {
    return latin1(bytes);
  }
}

/** One character per byte; a loop, since spreading a long name into arguments overflows the stack. */
function latin1(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}
