import { execFileSync } from 'node:child_process';
import { buildUsdtProbes, readBytes, Scratch } from '@ebpf/test-utils/clang';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ObjectError } from '../errors.ts';
import { ET_DYN, ET_REL, PT_LOAD, SHT_NOTE, SHT_PROGBITS, SHT_STRTAB } from './constants.ts';
import { ElfFile } from './elf.ts';
import { usdtNotes } from './usdt.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());

/** `readelf -n`'s view of the stapsdt notes: the oracle. */
function readelfNotes(path: string) {
  const text = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
  return [
    ...text.matchAll(
      /Provider: (\S+)\s+Name: (\S+)\s+Location: (0x[0-9a-f]+), Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)\s+Arguments: ([^\n]*)/g,
    ),
  ].map((m) => ({
    provider: m[1],
    name: m[2],
    address: BigInt(m[3] as string),
    semaphore: m[4],
    args: m[5],
  }));
}

describe.each([
  // The byte every probe site is: x86 `nop`, arm64 `nop`.
  ['x86_64', [0x90]],
  ['aarch64', [0x1f, 0x20, 0x03, 0xd5]],
] as const)('the sites of a gcc-built %s binary', (machine, nop) => {
  const path = buildUsdtProbes(scratch, machine);
  const image = readBytes(path);
  const elf = ElfFile.parse(image);
  const notes = usdtNotes(elf);

  it('are the notes readelf lists', () => {
    expect(notes.map(({ provider, name, address, args }) => ({ provider, name, address, args }))).toEqual(
      readelfNotes(path).map(({ provider, name, address, args }) => ({ provider, name, address, args })),
    );
    expect(notes.map((n) => n.name)).toEqual(['stack', 'registers', 'constants', 'guarded']);
  });

  it('are nops at their file offsets, and the semaphore is in .probes', () => {
    for (const note of notes)
      expect([...image.subarray(note.fileOffset, note.fileOffset + nop.length)]).toEqual(nop);
    const probes = elf.section('.probes');
    expect(notes.map((n) => n.semaphoreOffset)).toEqual([0, 0, 0, probes?.offset]);
    // The semaphore's address and offset differ here: a data segment starts a page apart.
    expect(probes?.addr).not.toBe(BigInt(probes?.offset ?? 0));
  });
});

it('a binary without notes has no sites', () => {
  expect(usdtNotes(ElfFile.parse(readBytes(process.execPath)))).toEqual([]);
});

/** A two-segment ET_DYN image with `.note.stapsdt` holding `notes` (and `.stapsdt.base` at `base`). */
function elfWithNotes(
  notes: readonly { name: string; type: number; desc: Uint8Array }[],
  options: { base?: bigint; type?: number } = {},
): Uint8Array {
  const out = new Uint8Array(0x4000);
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setUint16(16, options.type ?? ET_DYN, true);
  view.setUint16(18, 62, true);
  // Code at 0x1000 (file 0x1000), data at 0x3000 (file 0x2000).
  view.setBigUint64(32, 64n, true);
  view.setUint16(54, 56, true);
  view.setUint16(56, 2, true);
  [
    [5, 0x1000, 0x1000n],
    [6, 0x2000, 0x3000n],
  ].forEach(([flags, offset, vaddr], i) => {
    const at = 64 + i * 56;
    view.setUint32(at, PT_LOAD, true);
    view.setUint32(at + 4, flags as number, true);
    view.setBigUint64(at + 8, BigInt(offset as number), true);
    view.setBigUint64(at + 16, vaddr as bigint, true);
    view.setBigUint64(at + 32, 0x100n, true);
    view.setBigUint64(at + 40, 0x100n, true);
  });
  // The notes at 0x2800, then the names, then the section headers.
  let at = 0x2800;
  for (const note of notes) {
    const name = new TextEncoder().encode(`${note.name}\0`);
    view.setUint32(at, name.length, true);
    view.setUint32(at + 4, note.desc.length, true);
    view.setUint32(at + 8, note.type, true);
    out.set(name, at + 12);
    at += 12 + Math.ceil(name.length / 4) * 4;
    out.set(note.desc, at);
    at += Math.ceil(note.desc.length / 4) * 4;
  }
  const notesSize = at - 0x2800;
  const names = '\0.note.stapsdt\0.stapsdt.base\0.shstrtab\0';
  out.set(new TextEncoder().encode(names), 0x3000);
  const sections = [
    [0, 0, 0n, 0, 0],
    [1, SHT_NOTE, 0n, 0x2800, notesSize],
    [15, SHT_PROGBITS, options.base ?? 0x1080n, 0x1080, 1],
    [29, SHT_STRTAB, 0n, 0x3000, names.length],
  ].filter((_, i) => i !== 2 || options.base !== undefined);
  const shoff = 0x3100;
  view.setBigUint64(40, BigInt(shoff), true);
  view.setUint16(58, 64, true);
  view.setUint16(60, sections.length, true);
  view.setUint16(62, sections.length - 1, true);
  sections.forEach(([name, type, addr, offset, size], i) => {
    const h = shoff + i * 64;
    view.setUint32(h, name as number, true);
    view.setUint32(h + 4, type as number, true);
    view.setBigUint64(h + 16, addr as bigint, true);
    view.setBigUint64(h + 24, BigInt(offset as number), true);
    view.setBigUint64(h + 32, BigInt(size as number), true);
    view.setBigUint64(h + 48, 4n, true);
  });
  return out;
}

/** A stapsdt descriptor: three addresses, then provider, name and arguments. */
function desc(pc: bigint, base: bigint, semaphore: bigint, strings = 'p\0n\0-4@%edi\0'): Uint8Array {
  const text = new TextEncoder().encode(strings);
  const out = new Uint8Array(24 + text.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, pc, true);
  view.setBigUint64(8, base, true);
  view.setBigUint64(16, semaphore, true);
  out.set(text, 24);
  return out;
}

const stapsdt = (d: Uint8Array) => ({ name: 'stapsdt', type: 3, desc: d });
const notesOf = (image: Uint8Array) => usdtNotes(ElfFile.parse(image));

describe('notes made by hand', () => {
  it('turn addresses into file offsets through the segments, and skip other notes', () => {
    const image = elfWithNotes([
      { name: 'GNU', type: 3, desc: new Uint8Array(20) },
      stapsdt(desc(0x1010n, 0n, 0x3008n)),
      stapsdt(desc(0x10f0n, 0n, 0n, 'prov\0probe\0\0')),
    ]);
    expect(notesOf(image)).toEqual([
      {
        provider: 'p',
        name: 'n',
        args: '-4@%edi',
        address: 0x1010n,
        fileOffset: 0x1010,
        semaphoreOffset: 0x2008,
      },
      { provider: 'prov', name: 'probe', args: '', address: 0x10f0n, fileOffset: 0x10f0, semaphoreOffset: 0 },
    ]);
  });

  it('move sites by what prelink moved .stapsdt.base by', () => {
    const image = elfWithNotes([stapsdt(desc(0x1010n, 0x1000n, 0n))], { base: 0x1040n });
    expect(notesOf(image)[0]).toMatchObject({ address: 0x1050n, fileOffset: 0x1050 });
  });

  it.each([
    ['a descriptor too short for three addresses', desc(0n, 0n, 0n).subarray(0, 20), /too short/],
    ['strings without their NULs', desc(0x1010n, 0n, 0n, 'p\0n\0-4@%edi'), /arguments is not NUL-terminated/],
    ['an empty provider', desc(0x1010n, 0n, 0n, '\0n\0\0'), /empty provider/],
    [
      'a site outside the code',
      desc(0x3010n, 0n, 0n),
      /\(p:n\): its address 0x3010 lies in no loadable segment/,
    ],
    [
      'a semaphore no segment maps',
      desc(0x1010n, 0n, 0x9000n),
      /its semaphore 0x9000 lies in no loadable segment/,
    ],
  ])('refuse %s', (_, bytes, message) => {
    const error = (() => {
      try {
        notesOf(elfWithNotes([stapsdt(bytes)]));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ObjectError);
    expect((error as Error).message).toMatch(message);
  });

  it('of a relocatable object are refused: their addresses are not final', () => {
    expect(() => notesOf(elfWithNotes([stapsdt(desc(0x1010n, 0n, 0n))], { type: ET_REL }))).toThrow(
      /give the linked executable or shared library/,
    );
  });

  it('of any bytes parse or fail with an ObjectError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        try {
          notesOf(elfWithNotes([stapsdt(bytes)]));
        } catch (error) {
          if (!(error instanceof ObjectError)) throw error;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
