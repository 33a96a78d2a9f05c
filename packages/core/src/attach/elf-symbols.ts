import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';

/**
 * Finding a function's file offset in an ELF executable or shared library, which is what uprobes
 * attach to: the symbol's address (from `.symtab` or `.dynsym`) translated through the loadable
 * segment that holds it. Reads only the headers and symbol tables, never the whole file.
 */

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const PT_LOAD = 1;

/** An open ELF file: its fd and its path, which every error names. */
interface ElfFile {
  readonly fd: number;
  readonly path: string;
}

function readAt(file: ElfFile, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(file.fd, buffer, done, length - done, offset + done);
    if (n === 0) {
      throw new InvalidArgumentError(
        `${file.path} is not a usable ELF file: it ends before byte ${offset + length}`,
      );
    }
    done += n;
  }
  return buffer;
}

/**
 * Opens the ELF file at `path` and checks its header: `NotFoundError` when there is no such file,
 * `InvalidArgumentError` for a directory, a device or a file that is not 64-bit little-endian ELF.
 * Returns the file and its 64-byte header; the caller closes the fd.
 */
function openElf(path: string): { file: ElfFile; header: Buffer } {
  let fd: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) {
      throw new InvalidArgumentError(
        `${path} is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}: give the path of an ELF binary or library`,
      );
    }
    fd = openSync(path, 'r');
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new NotFoundError(`cannot open ${path}: ${(error as Error).message}`, {
      cause: error,
      code: (error as NodeJS.ErrnoException).code ?? 'ENOENT',
    });
  }
  const file = { fd, path };
  try {
    const header = readAt(file, 0, 64);
    if (header.readUInt32BE(0) !== 0x7f454c46 || header[4] !== 2 || header[5] !== 1) {
      throw new InvalidArgumentError(`${path} is not a 64-bit little-endian ELF file`);
    }
    return { file, header };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Throws unless `path` is a 64-bit little-endian ELF file (see `openElf`). */
export function requireElf(path: string): void {
  closeSync(openElf(path).file.fd);
}

interface Section {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly entsize: number;
}

interface Segment {
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
}

/**
 * The file offset of function `symbol` in the ELF file at `path` (64-bit little-endian). Throws
 * `NotFoundError` when the file has no such function, `InvalidArgumentError` for non-ELF files.
 */
export function symbolOffset(path: string, symbol: string): number {
  const { file, header } = openElf(path);
  try {
    const phoff = Number(header.readBigUInt64LE(0x20));
    const shoff = Number(header.readBigUInt64LE(0x28));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const shentsize = header.readUInt16LE(0x3a);
    const shnum = header.readUInt16LE(0x3c);

    const sections: Section[] = [];
    const sectionTable = readAt(file, shoff, shentsize * shnum);
    for (let i = 0; i < shnum; i++) {
      const at = i * shentsize;
      sections.push({
        type: sectionTable.readUInt32LE(at + 4),
        offset: Number(sectionTable.readBigUInt64LE(at + 24)),
        size: Number(sectionTable.readBigUInt64LE(at + 32)),
        link: sectionTable.readUInt32LE(at + 40),
        entsize: Number(sectionTable.readBigUInt64LE(at + 56)),
      });
    }
    const address = findSymbol(file, sections, symbol);
    if (address === undefined)
      throw new NotFoundError(`no function '${symbol}' in ${path}`, { code: 'ENOENT' });

    const programTable = readAt(file, phoff, phentsize * phnum);
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (programTable.readUInt32LE(at) !== PT_LOAD) continue;
      const segment: Segment = {
        offset: Number(programTable.readBigUInt64LE(at + 8)),
        vaddr: Number(programTable.readBigUInt64LE(at + 16)),
        filesz: Number(programTable.readBigUInt64LE(at + 32)),
      };
      if (address >= segment.vaddr && address < segment.vaddr + segment.filesz) {
        return address - segment.vaddr + segment.offset;
      }
    }
    throw new NotFoundError(`function '${symbol}' of ${path} is in no loadable segment`, {
      code: 'ENOENT',
    });
  } finally {
    closeSync(file.fd);
  }
}

/** The address of function `symbol` in `.symtab`, else `.dynsym` (defined symbols only). */
function findSymbol(file: ElfFile, sections: readonly Section[], symbol: string): number | undefined {
  const wanted = Buffer.from(`${symbol}\0`);
  for (const type of [SHT_SYMTAB, SHT_DYNSYM]) {
    for (const table of sections) {
      if (table.type !== type || table.entsize !== 24) continue;
      const strings = sections[table.link];
      if (strings === undefined) continue;
      const names = readAt(file, strings.offset, strings.size);
      const symbols = readAt(file, table.offset, table.size);
      for (let at = 0; at + 24 <= symbols.length; at += 24) {
        const kind = symbols[at + 4]! & 0xf;
        if (kind !== STT_FUNC && kind !== STT_GNU_IFUNC) continue;
        if (symbols.readUInt16LE(at + 6) === 0) continue; // undefined (imported)
        const name = symbols.readUInt32LE(at);
        if (name + wanted.length > names.length) continue;
        if (names.compare(wanted, 0, wanted.length, name, name + wanted.length) !== 0) continue;
        return Number(symbols.readBigUInt64LE(at + 8));
      }
    }
  }
  return undefined;
}
