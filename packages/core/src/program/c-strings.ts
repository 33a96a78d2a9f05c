/** C strings the kernel reads (licenses) and writes (verifier logs). */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A NUL-terminated copy of `text`, allocated off the V8 heap: a small on-heap typed array would be
 * copied out of the heap the first time native code asks for its address, on every load.
 */
export function cString(text: string): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(Buffer.byteLength(text) + 1));
  encoder.encodeInto(text, bytes);
  return bytes;
}

/** The text the kernel wrote into `buffer`, up to its NUL. */
export function logText(buffer: Uint8Array): string {
  const end = buffer.indexOf(0);
  return decoder.decode(end < 0 ? buffer : buffer.subarray(0, end));
}
