import { afterAll } from 'vitest';
import { BpfMap } from '../map/index.ts';

/**
 * The `counts` array map that `countingProgram` (from `@ebpf/test-utils/programs`) adds to: made
 * on first use, closed after the file's tests. `maps` goes into a load, `hits()` reads counts[0].
 */
export function countsMap(): { readonly maps: { readonly counts: BpfMap<number, bigint> }; hits(): bigint } {
  let counts: BpfMap<number, bigint> | undefined;
  const map = () => {
    counts ??= BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
    return counts;
  };
  afterAll(() => counts?.close());
  return {
    get maps() {
      return { counts: map() };
    },
    hits: () => map().get(0) ?? 0n,
  };
}
