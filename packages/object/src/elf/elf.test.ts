import { buildObject, readBytes, readelf, requireTools, Scratch } from '@ebpf/test-utils/clang';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectError } from '../errors.ts';
import { R_BPF_64_32, R_BPF_64_64, SHT_REL } from './constants.ts';
import { ElfFile } from './elf.ts';
import { findFunctionSymbol } from './functions.ts';

const scratch = new Scratch();
const objects = new Map<string, Uint8Array>();
const paths = new Map<string, string>();

beforeAll(() => {
  requireTools();
  for (const target of ['bpfel', 'bpfeb'] as const) {
    const path = buildObject(scratch, 'elf-basics', target);
    paths.set(target, path);
    objects.set(target, readBytes(path));
  }
});
afterAll(() => scratch.dispose());

describe.each(['bpfel', 'bpfeb'])('a clang object (%s)', (target) => {
  it('has the sections llvm-readelf lists', () => {
    const elf = ElfFile.parse(objects.get(target) as Uint8Array);
    expect(elf.littleEndian).toBe(target === 'bpfel');
    const names = [...readelf(paths.get(target) as string, '-S').matchAll(/^\s*\[\s*\d+\]\s(\S*)/gm)].map(
      (m) => m[1],
    );
    expect(elf.sections.map((s) => s.name)).toEqual(names);
  });

  it('reads symbols and REL relocations by type', () => {
    const elf = ElfFile.parse(objects.get(target) as Uint8Array);
    const symbols = elf.symbols();
    const rel = elf.section('.relxdp');
    expect(rel?.type).toBe(SHT_REL);
    const relocations = elf.relocations(rel as NonNullable<typeof rel>);
    // A section symbol has no name of its own; it stands for its section.
    const named = (index: number) => {
      const symbol = symbols[index];
      return symbol?.name || elf.sections[symbol?.sectionIndex ?? 0]?.name;
    };
    expect(relocations.map((r) => [r.offset, named(r.symbol), r.type])).toEqual([
      [0x20, 'counts', R_BPF_64_64],
      [0x58, '.text', R_BPF_64_32],
    ]);
  });

  it('finds a function symbol with its file offset', () => {
    const elf = ElfFile.parse(objects.get(target) as Uint8Array);
    const found = findFunctionSymbol(elf, 'pass_all');
    expect(found?.fileOffset).toBe(elf.section('xdp')?.offset);
    expect(findFunctionSymbol(elf, 'nope')).toBeUndefined();
  });
});

describe('an x86_64 shared object (libc)', () => {
  const path = '/lib/x86_64-linux-gnu/libc.so.6';

  it('finds malloc in .dynsym at the file offset llvm-readelf implies', () => {
    const elf = ElfFile.parse(readBytes(path));
    const listed = readelf(path, '--dyn-syms').match(
      /: ([0-9a-f]{16})\s+(\d+) FUNC\s+GLOBAL\s+DEFAULT\s+\d+ malloc@@/,
    );
    const found = findFunctionSymbol(elf, 'malloc');
    expect(found?.address).toBe(BigInt(`0x${listed?.[1]}`));
    expect(found?.size).toBe(BigInt(listed?.[2] ?? -1));
    const text = elf.section('.text');
    expect(found?.fileOffset).toBe(Number(found?.address ?? 0n) - Number(text?.addr) + (text?.offset ?? 0));
  });

  it('opened from a source, reads only the headers and the sections a lookup needs', () => {
    const image = readBytes(path);
    let read = 0;
    const elf = ElfFile.open({
      size: image.length,
      read: (offset, length) => {
        read += length;
        return image.slice(offset, offset + length);
      },
    });
    const found = findFunctionSymbol(elf, 'malloc');
    expect(found).toEqual(findFunctionSymbol(ElfFile.parse(image), 'malloc'));
    const tables = ['.dynsym', '.dynstr', '.symtab', '.strtab', '.shstrtab'].reduce(
      (sum, name) => sum + (elf.section(name)?.size ?? 0),
      0,
    );
    // The ident, the ELF header, section 0 (which may hold the count), all headers, the tables.
    expect(read).toBe(16 + 64 + 64 + elf.sections.length * 64 + tables);
    expect(read).toBeLessThan(image.length / 4);
  });

  it('reads the GNU build-id note', () => {
    const elf = ElfFile.parse(readBytes(path));
    const [note] = elf.notes(
      elf.section('.note.gnu.build-id') as NonNullable<ReturnType<ElfFile['section']>>,
    );
    const id = readelf(path, '-n').match(/Build ID: ([0-9a-f]+)/)?.[1];
    expect(note?.name).toBe('GNU');
    expect(Buffer.from(note?.desc ?? []).toString('hex')).toBe(id);
  });
});

describe('hostile input', () => {
  it('refuses ELFCLASS32 and non-ELF bytes with an ObjectError', () => {
    const elf32 = new Uint8Array(64);
    elf32.set([0x7f, 0x45, 0x4c, 0x46, 1, 1]);
    expect(() => ElfFile.parse(elf32)).toThrow(/ELFCLASS64/);
    expect(() => ElfFile.parse(new Uint8Array(3))).toThrow(ObjectError);
  });

  it.each(['bpfel', 'bpfeb'])(
    'tells a 64-bit offset past 2^53 from one past the end of the file (%s)',
    (target) => {
      const bytes = (objects.get(target) as Uint8Array).slice();
      const view = new DataView(bytes.buffer);
      const little = target === 'bpfel';
      view.setBigUint64(40, 2n ** 53n, little);
      expect(() => ElfFile.parse(bytes)).toThrow(/e_shoff is 0x20000000000000, larger than any file/);
      view.setBigUint64(40, 2n ** 53n - 1n, little);
      expect(() => ElfFile.parse(bytes)).toThrow(
        /the first section header \(64 bytes\) runs past the end of the file/,
      );
    },
  );

  it('names an unnamed section by its index when its header is corrupt', () => {
    const bytes = (objects.get('bpfel') as Uint8Array).slice();
    const view = new DataView(bytes.buffer);
    const shoff = Number(view.getBigUint64(40, true));
    view.setBigUint64(shoff + 2 * 64 + 32, 2n ** 60n, true);
    const error = (() => {
      try {
        ElfFile.parse(bytes);
      } catch (e) {
        return e as ObjectError;
      }
    })();
    expect(error).toBeInstanceOf(ObjectError);
    expect(error?.message).toMatch(/sh_size is 0x1000000000000000, larger than any file/);
    expect(error?.section).toBe('#2');
  });

  it('names the offset of a truncated object', () => {
    const bytes = objects.get('bpfel') as Uint8Array;
    expect(() => ElfFile.parse(bytes.subarray(0, bytes.length - 100))).toThrow(/offset 0x/);
  });

  it('throws only ObjectError on truncated and corrupted objects (fuzz)', () => {
    const runs = Number(process.env.OBJECT_FUZZ_RUNS ?? 10_000);
    for (const target of ['bpfel', 'bpfeb']) {
      const base = objects.get(target) as Uint8Array;
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
          fc.nat(base.length),
          (edits, cut) => {
            const bytes = base.slice(0, Math.max(cut, 16));
            for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
            try {
              const elf = ElfFile.parse(bytes);
              elf.symbols();
              for (const section of elf.sections) if (section.type === SHT_REL) elf.relocations(section);
              findFunctionSymbol(elf, 'pass_all');
            } catch (error) {
              if (!(error instanceof ObjectError)) throw error;
            }
          },
        ),
        { numRuns: runs / 2 },
      );
    }
  });
});
