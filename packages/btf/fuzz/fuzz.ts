/**
 * The parsers' fuzzer: mutates valid input (truncation, random bytes, hostile u32 lengths, ids and
 * offsets) and checks that parsing and querying the result throws nothing but `BtfError`. The
 * tests run 10,000 inputs each; `soak.ts` runs as many as asked.
 */
import { Btf, BtfError, BtfExt } from '../src/index.ts';

/** Words a hostile input puts where lengths, ids and offsets go. */
const HOSTILE = [0, 1, 3, 4, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff];

/** A deterministic generator of integers below `n` (an LCG: reproducible from its seed). */
export function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
}

/** `good`, maybe truncated, with a few bytes or aligned words replaced. */
export function mutate(good: Uint8Array, rand: (n: number) => number): Uint8Array {
  const bytes = good.slice(0, rand(2) ? good.length : rand(good.length + 1));
  const v = new DataView(bytes.buffer);
  for (let k = rand(4); k >= 0 && bytes.length >= 4; k--) {
    if (rand(2)) bytes[rand(bytes.length)] = rand(256);
    else v.setUint32(rand(bytes.length >> 2) << 2, HOSTILE[rand(HOSTILE.length)]!, rand(2) === 0);
  }
  return bytes;
}

/** Runs `check` on `runs` mutations of `good`; anything but a `BtfError` escapes with its input's seed. */
function fuzz(good: Uint8Array, runs: number, seed: number, check: (bytes: Uint8Array) => void): void {
  const rand = random(seed);
  for (let i = 0; i < runs; i++) {
    const bytes = mutate(good, rand);
    try {
      check(bytes);
    } catch (e) {
      if (e instanceof BtfError) continue;
      throw new Error(`input ${i} of seed ${seed} threw ${String(e)}`, { cause: e });
    }
  }
}

/** Queries every type of the BTF in `bytes`, so that decoding and queries meet the corruption. */
function exercise(bytes: Uint8Array): void {
  const btf = Btf.parse(bytes);
  for (const t of btf) {
    btf.nameOf(t.id);
    btf.typesByName(t.name);
    try {
      btf.sizeof(t.id);
      btf.alignof(t.id);
    } catch (e) {
      if (!(e instanceof BtfError)) throw e;
    }
  }
}

export function fuzzBtf(good: Uint8Array, runs: number, seed: number): void {
  fuzz(good, runs, seed, exercise);
}

export function fuzzBtfExt(good: Uint8Array, btf: Btf, runs: number, seed: number): void {
  fuzz(good, runs, seed, (bytes) => {
    BtfExt.parse(bytes, { btf }).section('xdp');
    BtfExt.parse(bytes);
  });
}
