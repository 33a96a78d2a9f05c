import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { ElfFile, type ElfSource, findFunctionSymbol } from '@ebpf/object';
import { InvalidArgumentError, NotFoundError } from '../errors.ts';

/**
 * The functions of an executable or shared library, as uprobes attach to them: found by
 * @ebpf/object's ELF reader, which reads the headers and then only the sections a lookup needs
 * (symbol and string tables), so probing `node` (100 MB) reads a few MB.
 */

/** The file behind `fd`, read where the ELF reader asks (the fd stays open while it is used). */
function fileSource(fd: number, path: string): ElfSource {
  return {
    size: fstatSync(fd).size,
    read(offset, length) {
      const bytes = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const n = readSync(fd, bytes, done, length - done, offset + done);
        if (n === 0)
          throw new InvalidArgumentError(`${path} is not a usable ELF file: it ended while being read`);
        done += n;
      }
      return bytes;
    },
  };
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
 * Opens the ELF file at `path` and passes it to `use` while the file is open: `NotFoundError`
 * when there is no such file, `InvalidArgumentError` for a directory, a device or a file that
 * is not 64-bit ELF (here or in what `use` reads).
 */
export function withBinary<T>(path: string, use: (elf: ElfFile) => T): T {
  const fd = openBinary(path);
  try {
    return use(ElfFile.open(fileSource(fd, path)));
  } catch (error) {
    if (error instanceof InvalidArgumentError || error instanceof NotFoundError) throw error;
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
  return withBinary(path, (elf) => functionOffset(elf, path, symbol));
}

/** The file offset of `symbol` in an ELF file opened by `withBinary`. */
export function functionOffset(elf: ElfFile, path: string, symbol: string): number {
  const found = findFunctionSymbol(elf, symbol);
  if (found === undefined) throw new NotFoundError(`no function '${symbol}' in ${path}`, { code: 'ENOENT' });
  return found.fileOffset;
}
