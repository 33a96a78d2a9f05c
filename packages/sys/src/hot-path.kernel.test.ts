/** The map hot paths allocate nothing per call: the JS heap stays flat over ten million lookups. */
import { PerformanceObserver } from 'node:perf_hooks';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { mapLookup, mapUpdate } from './index.ts';
import { buf, createMap, MapType, trackFds, u32 } from './test/helpers.ts';

const track = trackFds();
const calls = Number(process.env.EBPF_SYS_ALLOC_CALLS ?? 10_000_000);

requireKernel('hot paths allocate nothing', () => {
  it(`keeps the heap flat over ${calls} hash lookups`, async () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 1024));
    const key = u32(42);
    const value = buf(8);
    mapUpdate(fd, key, value, 0);
    for (let i = 0; i < 100_000; i++) mapLookup(fd, key, value, 0); // warm up (JIT, inline caches)
    let collections = 0;
    const observer = new PerformanceObserver((list) => {
      collections += list.getEntries().length;
    });
    observer.observe({ entryTypes: ['gc'] });
    const before = process.memoryUsage().heapUsed;
    let found = 0;
    for (let i = 0; i < calls; i++) if (mapLookup(fd, key, value, 0)) found++;
    const grown = process.memoryUsage().heapUsed - before;
    await new Promise((resolve) => setImmediate(resolve)); // GC entries arrive asynchronously
    observer.disconnect();
    expect(found).toBe(calls);
    // Even 8 bytes per call would be 80 MB over the run: either the heap would grow by that or
    // the young generation would be collected many times over.
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    expect(collections).toBeLessThanOrEqual(4);
  }, 120_000);
});
