/**
 * Ownership: 20,000 maps and 20,000 programs created and let go of in each of the three ways a
 * user lets go (close(), `using`, dropping the object for the garbage collector); the process's
 * open fd count must come back to where it started.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { exit, mov64, R0 } from '@ebpf/asm';
import { BpfMap, BpfProgram } from '@ebpf/core';
import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';

const count = 20_000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs the collector and lets finalizers run until the fd count is back at `target` (or 2 s passed). */
async function settle(target: number): Promise<void> {
  for (let i = 0; i < 200 && openFdCount() > target; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const kinds = {
  maps: () => BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 4 }),
  programs: () => BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] }),
};

requireKernel('no fd leaks', () => {
  for (const [kind, make] of Object.entries(kinds)) {
    it(`${count} ${kind}: close(), using, and the garbage collector`, { timeout: 600_000 }, async () => {
      make().close(); // warm up: lazily opened fds (caches, probes) are not leaks
      await settle(0);
      const start = openFdCount();

      for (let i = 0; i < count; i++) make().close();
      expect(openFdCount()).toBe(start);

      for (let i = 0; i < count; i++) {
        using object = make();
        void object;
      }
      expect(openFdCount()).toBe(start);

      // Dropped without close(): the finalizers close them. Give the event loop a turn now and
      // then, as any long-running app does (finalizers run between tasks).
      for (let i = 0; i < count; i++) {
        make();
        if (i % 1000 === 999) await settle(start);
      }
      await settle(start);
      expect(openFdCount()).toBe(start);

      // Clones, codecs and failures leak nothing either.
      for (let i = 0; i < 1000; i++) {
        using object = make();
        object.clone().close();
      }
      for (let i = 0; i < 1000; i++) {
        expect(() => BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [exit()] })).toThrow();
        expect(() => BpfMap.create({ type: 'ringbuf', maxEntries: 4097 })).toThrow();
      }
      expect(openFdCount()).toBe(start);
    });
  }
});
