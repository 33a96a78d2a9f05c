import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { ElfFile, findFunctionSymbol, SHT_DYNSYM, SHT_SYMTAB } from '@ebpf/object';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';

/**
 * The functions of an executable or shared library, as uprobes attach to them: found by
 * @ebpf/object's ELF reader. Only the headers, section names and symbol tables are read from
 * disk, into an image of the file's size whose other bytes stay zero (untouched pages of a large
 * zeroed buffer cost no memory), so probing `node` (100 MB) reads a few MB.
 */

const ELF_HEADER = 64;
const SECTION_HEADER = 64;

/** Reads `length` bytes at `offset` of `fd` into `image` at the same offset. */
function fill(fd: number, image: Uint8Array, offset: number, length: number, path: string): void {
  if (offset + length > image.length || offset < 0 || length < 0) {
    throw new InvalidArgumentError(
      `${path} is not a usable ELF file: it ends before byte ${offset + length}`,
    );
  }
  let done = 0;
  while (done < length) {
    const n = readSync(fd, image, offset + done, length - done, offset + done);
    if (n === 0) {
      throw new InvalidArgumentError(
        `${path} is not a usable ELF file: it ends before byte ${offset + length}`,
      );
    }
    done += n;
  }
}

function openBinary(path: string): number {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) {
      throw new InvalidArgumentError(
        `${path} is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}: give the path of an ELF binary or library`,
      );
    }
    return openSync(path, 'r');
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new NotFoundError(`cannot open ${path}: ${(error as Error).message}`, {
      cause: error,
      code: (error as NodeJS.ErrnoException).code ?? 'ENOENT',
    });
  }
}

/**
 * The ELF file at `path`, with what a function lookup reads: `NotFoundError` when there is no such
 * file, `InvalidArgumentError` for a directory, a device or a file that is not 64-bit ELF.
 */
export function readBinary(path: string): ElfFile {
  const fd = openBinary(path);
  try {
    const image = new Uint8Array(fstatSync(fd).size);
    fill(fd, image, 0, ELF_HEADER, path);
    const view = new DataView(image.buffer);
    const little = image[5] === 1;
    const shoff = Number(view.getBigUint64(0x28, little));
    const shnum = view.getUint16(0x3c, little);
    const shstrndx = view.getUint16(0x3e, little);
    fill(fd, image, shoff, shnum * SECTION_HEADER, path);
    const sections = Array.from({ length: shnum }, (_, k) => {
      const at = shoff + k * SECTION_HEADER;
      return {
        type: view.getUint32(at + 4, little),
        offset: Number(view.getBigUint64(at + 24, little)),
        size: Number(view.getBigUint64(at + 32, little)),
        link: view.getUint32(at + 40, little),
      };
    });
    const wanted = new Set([shstrndx]);
    sections.forEach((s, k) => {
      if (s.type === SHT_SYMTAB || s.type === SHT_DYNSYM) wanted.add(k).add(s.link);
    });
    for (const k of wanted) {
      const s = sections[k];
      if (s !== undefined) fill(fd, image, s.offset, s.size, path);
    }
    return ElfFile.parse(image);
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(`${path} is not a usable ELF file: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    closeSync(fd);
  }
}

/**
 * The file offset of function `symbol` in the ELF file at `path` (from `.symtab`, else
 * `.dynsym`): what uprobes attach to. `NotFoundError` when the file has no such function.
 */
export function symbolOffset(path: string, symbol: string): number {
  return functionOffset(readBinary(path), path, symbol);
}

/** The file offset of `symbol` in an ELF file read by `readBinary`. */
export function functionOffset(elf: ElfFile, path: string, symbol: string): number {
  const found = findFunctionSymbol(elf, symbol);
  if (found === undefined) throw new NotFoundError(`no function '${symbol}' in ${path}`, { code: 'ENOENT' });
  return found.fileOffset;
}
