import { ObjectError } from '../errors.ts';
import { SHN_LORESERVE, SHN_UNDEF, STT_FUNC, STT_GNU_IFUNC } from './constants.ts';
import type { ElfFile, ElfSymbol } from './elf.ts';

/** A function defined in an executable or shared object, where a uprobe would attach. */
export interface FunctionSymbol {
  readonly name: string;
  /** Virtual address (`st_value`). */
  readonly address: bigint;
  readonly size: bigint;
  /** Offset of the first instruction in the file, as `uprobe` attach takes it. */
  readonly fileOffset: number;
}

/**
 * Finds the function `name` in `.symtab`, then `.dynsym` (stripped binaries keep only the
 * latter), and turns its address into a file offset through its section. Undefined when absent.
 */
export function findFunctionSymbol(elf: ElfFile, name: string): FunctionSymbol | undefined {
  const symbol = defined(elf.symbolsNamed(name), name) ?? defined(elf.symbolsNamed(name, true), name);
  if (symbol === undefined) return undefined;
  const section = elf.sections[symbol.sectionIndex];
  if (section === undefined) {
    throw new ObjectError(
      `function ${name} is defined in section ${symbol.sectionIndex}, which does not exist`,
      {},
    );
  }
  const fileOffset = symbol.value - section.addr + BigInt(section.offset);
  if (fileOffset < 0n || fileOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ObjectError(`function ${name} at 0x${symbol.value.toString(16)} lies outside its section`, {
      section: section.name,
    });
  }
  return { name, address: symbol.value, size: symbol.size, fileOffset: Number(fileOffset) };
}

function defined(symbols: ElfSymbol[], name: string): ElfSymbol | undefined {
  return symbols.find(
    (s) =>
      s.name === name &&
      (s.type === STT_FUNC || s.type === STT_GNU_IFUNC) &&
      s.sectionIndex !== SHN_UNDEF &&
      s.sectionIndex < SHN_LORESERVE,
  );
}
