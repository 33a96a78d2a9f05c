/**
 * Telling an ELF object file from an instruction stream. Both are bytes, and a compiled `.o` is
 * the first thing a user hands to something that wants raw instructions; the four magic bytes
 * decide it, since no instruction stream starts with them (read as one, they are an ALU
 * instruction with a non-zero offset field, which the ISA forbids).
 */

const magic = [0x7f, 0x45, 0x4c, 0x46]; // "\x7fELF"

/** Whether `bytes` start like an ELF file (`\x7fELF`) rather than instructions. */
export function isElfObject(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && magic.every((byte, i) => bytes[i] === byte);
}

/** What to tell someone who passed an ELF object where raw instructions belong. */
export const elfObjectReason =
  'this is an ELF object file, not raw instructions: load it with Collection.load';
