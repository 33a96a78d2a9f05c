import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { close, mapLookup, mapUpdate, pageSize } from './index.ts';
import { packageRoot } from './native.ts';
import { buf, createMap, MapType } from './test/helpers.ts';

requireKernel('worker threads', () => {
  it('loads in a worker, shares the fd size cache, and tears down a live watcher and mapping', async () => {
    const mapFd = createMap(MapType.Hash, 4, 8, 4);
    const ringFd = createMap(MapType.Ringbuf, 0, 0, 4 * pageSize());
    const arrayFd = createMap(MapType.Array, 4, 8, 512, 1 << 10);
    try {
      const value = buf(8);
      value[0] = 42;
      mapUpdate(mapFd, buf(4), value, 0);
      const worker = new Worker(fileURLToPath(new URL('./test/worker-child.mjs', import.meta.url)), {
        workerData: { root: packageRoot, mapFd, ringFd, arrayFd },
      });
      const message = await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(message).toEqual({ found: true, first: 42 });
      // The started watcher keeps the worker alive (as it should); terminating it runs the
      // environment teardown, which must close the uv handle rather than abort the process.
      expect(await worker.terminate()).toBe(1);
      // The worker's mapping wrote through to the map; this thread's addon still works.
      const out = buf(8);
      expect(mapLookup(arrayFd, buf(4), out, 0)).toBe(true);
      expect(out[0]).toBe(99);
      // An unref'd watcher does not keep a worker alive: it exits by itself, and cleanly.
      const second = new Worker(fileURLToPath(new URL('./test/worker-child.mjs', import.meta.url)), {
        workerData: { root: packageRoot, mapFd, ringFd, arrayFd, unref: true },
      });
      expect(await new Promise((resolve) => second.once('exit', resolve))).toBe(0);
    } finally {
      close(mapFd);
      close(ringFd);
      close(arrayFd);
    }
  });
});
