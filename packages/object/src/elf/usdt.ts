/**
 * USDT probe sites (`DTRACE_PROBE`, `STAP_PROBE` of <sys/sdt.h>) as an executable or shared
 * library describes them: one `stapsdt` note (type 3) per site in `.note.stapsdt`, whose
 * descriptor holds the site's address, the address `.stapsdt.base` had at link time and the
 * semaphore's address (words of the ELF's size), then `provider\0name\0arguments\0`.
 * Addresses become file offsets through the program headers, as uprobes take them.
 */
import { decodeName } from '@ebpf/btf';
import { ObjectError } from '../errors.ts';
import { ET_DYN, ET_EXEC, PT_LOAD } from './constants.ts';
import type { ElfFile, ElfSegment } from './elf.ts';

/** The owner and type of a SystemTap SDT note. */
const STAPSDT_OWNER = 'stapsdt';
const NT_STAPSDT = 3;
/** `p_flags`: executable segment. */
const PF_X = 1;
/** Three addresses of an ELF64 file. */
const ADDRESSES_SIZE = 24;

/** One USDT probe site. */
export interface UsdtNote {
  readonly provider: string;
  readonly name: string;
  /** The argument specs as the compiler wrote them (`-4@%edi 8@-8(%rbp) 4@$5`); '' for none. */
  readonly args: string;
  /** Virtual address of the probed instruction, corrected for prelinking. */
  readonly address: bigint;
  /** File offset of the probed instruction: where the uprobe goes. */
  readonly fileOffset: number;
  /**
   * File offset of the probe's semaphore (the uprobe's reference counter, which the kernel raises
   * while the probe is attached, so `if (PROVIDER_NAME_ENABLED())` sites fire); 0 without one.
   */
  readonly semaphoreOffset: number;
}

/**
 * The USDT probe sites of an executable or shared object, in note order; none when it has no
 * `.note.stapsdt`. Notes of other owners or types are skipped; a malformed `stapsdt` note, or an
 * address no segment maps, is an {@link ObjectError}.
 */
export function usdtNotes(elf: ElfFile): UsdtNote[] {
  const section = elf.section('.note.stapsdt');
  if (section === undefined) return [];
  if (elf.type !== ET_EXEC && elf.type !== ET_DYN)
    throw new ObjectError(
      `USDT notes of an ELF of type ${elf.type} cannot be probed: give the linked executable or shared library`,
      { section: section.name },
    );
  // prelink moves the code but not the notes: the gap `.stapsdt.base` moved by applies to sites.
  const base = elf.section('.stapsdt.base');
  const segments = elf.segments().filter((s) => s.type === PT_LOAD);
  const code = segments.filter((s) => (s.flags & PF_X) !== 0);
  const out: UsdtNote[] = [];
  for (const [index, note] of elf.notes(section).entries()) {
    if (note.name !== STAPSDT_OWNER || note.type !== NT_STAPSDT) continue;
    const where = `${section.name} note ${index}`;
    const { desc } = note;
    if (desc.length < ADDRESSES_SIZE + 3)
      throw new ObjectError(`${where} is ${desc.length} bytes, too short for a USDT probe`, {
        section: section.name,
      });
    const view = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
    const pc = view.getBigUint64(0, elf.littleEndian);
    const linkedBase = view.getBigUint64(8, elf.littleEndian);
    const semaphore = view.getBigUint64(16, elf.littleEndian);
    const [provider, name, args] = strings(desc, where, section.name);
    const address = base !== undefined && linkedBase !== 0n ? pc + base.addr - linkedBase : pc;
    const probe = `${where} (${provider}:${name})`;
    out.push({
      provider,
      name,
      args,
      address,
      fileOffset: fileOffset(code, address, `${probe}: its address`, section.name),
      semaphoreOffset:
        semaphore === 0n ? 0 : fileOffset(segments, semaphore, `${probe}: its semaphore`, section.name),
    });
  }
  return out;
}

/** The three NUL-terminated strings after the addresses: provider, name, arguments. */
function strings(desc: Uint8Array, where: string, section: string): [string, string, string] {
  const out: string[] = [];
  let at = ADDRESSES_SIZE;
  for (let i = 0; i < 3; i++) {
    const end = desc.indexOf(0, at);
    if (end < 0)
      throw new ObjectError(`${where}: its ${['provider', 'name', 'arguments'][i]} is not NUL-terminated`, {
        section,
      });
    out.push(decodeName(desc, at, end));
    at = end + 1;
  }
  const [provider, name, args] = out as [string, string, string];
  if (provider === '' || name === '')
    throw new ObjectError(`${where} has an empty provider or probe name`, { section });
  return [provider, name, args];
}

/** The file offset of virtual address `address` in the segment of `segments` that maps it. */
function fileOffset(segments: readonly ElfSegment[], address: bigint, what: string, section: string): number {
  const segment = segments.find(
    (s) => s.vaddr <= address && address < s.vaddr + BigInt(Math.max(s.memorySize, s.fileSize)),
  );
  if (segment === undefined)
    throw new ObjectError(`${what} 0x${address.toString(16)} lies in no loadable segment`, { section });
  return Number(address - segment.vaddr) + segment.offset;
}
