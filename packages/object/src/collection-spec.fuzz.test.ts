/**
 * Hostile objects: clang objects truncated and with bytes overwritten, where a parser is most
 * exposed (ELF and section headers, symbols, relocations, BTF, map definitions, code) and
 * anywhere. `CollectionSpec.parse` must throw nothing but `ObjectError`, and never hang.
 * 10,000 inputs by default; soak with `OBJECT_FUZZ_RUNS=1000000 npx vitest run src/collection-spec.fuzz.test.ts`.
 */
import { buildObject, readBytes, requireTools, Scratch } from '@ebpf/test-utils/clang';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CollectionSpec } from './collection-spec.ts';
import { ElfFile } from './elf/elf.ts';
import { ObjectError } from './errors.ts';

const scratch = new Scratch();
const bases: { bytes: Uint8Array; regions: [start: number, end: number][] }[] = [];

// Builds every object with clang in both byte orders: slow on a loaded machine.
beforeAll(() => {
  requireTools();
  for (const name of [
    'programs-and-subprograms',
    'maps-of-every-kind',
    'globals-of-every-section',
    'externs-kconfig-ksym',
  ])
    for (const target of ['bpfel', 'bpfeb'] as const) {
      const bytes = readBytes(buildObject(scratch, name, target));
      const elf = ElfFile.parse(bytes);
      const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, target === 'bpfel'));
      const regions: [number, number][] = [
        [0, 64],
        [shoff, bytes.length],
        ...elf.sections
          .filter((s) => s.type !== 8 && s.size > 0)
          .map((s): [number, number] => [s.offset, s.offset + s.size]),
      ];
      bases.push({ bytes, regions });
    }
}, 120_000);
afterAll(() => scratch.dispose());

const runs = Number(process.env.OBJECT_FUZZ_RUNS ?? 10_000);

// About 1 ms an input; a soak gets time in proportion.
it('throws only ObjectError on truncated and corrupted objects', {
  timeout: Math.max(60_000, runs * 5),
}, () => {
  let parsed = 0;
  fc.assert(
    fc.property(
      fc.nat(),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 6,
      }),
      fc.option(fc.nat(), { freq: 4 }),
      (which, edits, cut) => {
        const base = bases[which % bases.length] as (typeof bases)[number];
        const bytes = base.bytes.slice(0, cut === null ? undefined : cut % (base.bytes.length + 1));
        for (const [region, at, value] of edits) {
          const [start, end] = base.regions[region % base.regions.length] as [number, number];
          const offset = start + (at % Math.max(1, end - start));
          if (offset < bytes.length) bytes[offset] = value;
        }
        try {
          const spec = CollectionSpec.parse(bytes, { name: 'fuzz' });
          for (const variable of Object.values(spec.variables)) variable.get();
          parsed++;
        } catch (error) {
          if (!(error instanceof ObjectError)) throw error;
          // Anything else is a bug the parser wrapped instead of explaining.
          if (error.reason.startsWith('cannot be parsed')) throw error.cause;
        }
      },
    ),
    { numRuns: runs },
  );
  // Some mutations leave a usable object: the fuzzer reaches past the first check.
  expect(parsed).toBeGreaterThan(0);
});
