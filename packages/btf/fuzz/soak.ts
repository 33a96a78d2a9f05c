/**
 * The long fuzz run: `pnpm --filter @ebpf/btf fuzz -- --runs 1000000 [--seed N]` mutates raw BTF
 * and a clang object's `.BTF.ext` `runs` times each, in chunks of 100,000 with their own seeds,
 * and stops at the first input that throws anything but a `BtfError` (naming its seed and index).
 */
import { requireTools, Scratch } from '@ebpf/test-utils/clang';
import { objectCorpus, rawCorpus } from './corpus.ts';
import { fuzzBtf, fuzzBtfExt } from './fuzz.ts';

const CHUNK = 100_000;

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} needs a whole number, got ${process.argv[at + 1]}`);
  return value;
}

const runs = option('--runs', 1_000_000);
const seed = option('--seed', Date.now() % 2 ** 31);
requireTools();
const scratch = new Scratch();
try {
  const raw = rawCorpus();
  const { btf, ext } = objectCorpus(scratch);
  const started = Date.now();
  for (let done = 0; done < runs; done += CHUNK) {
    const n = Math.min(CHUNK, runs - done);
    const chunkSeed = seed + done / CHUNK;
    fuzzBtf(raw, n, chunkSeed);
    fuzzBtfExt(ext, btf, n, chunkSeed);
    console.log(
      `${done + n} of ${runs} inputs of each parser (seed ${chunkSeed}), ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
  console.log(`fuzz: ${runs} raw BTF and ${runs} .BTF.ext inputs, only BtfErrors`);
} finally {
  scratch.dispose();
}
