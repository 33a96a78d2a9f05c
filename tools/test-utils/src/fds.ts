import { readdirSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Number of file descriptors this process has open right now. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** This process's open descriptors and what each refers to (`anon_inode:bpf-map`, `socket:[…]`, a path). */
export function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      fds.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // The directory's own fd, closed by the time it is read.
    }
  }
  return fds;
}

// Exposing gc at run time spares every test command a `--expose-gc` flag.
setFlagsFromString('--expose-gc');
/** A full garbage collection (V8's `gc()`), which also queues the finalizers of what it collected. */
export const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Collects garbage and lets finalizers run (they run between tasks) until `done()` holds or about
 * `ms` have passed; returns whether it held.
 */
export async function collectUntil(done: () => boolean, ms = 2000): Promise<boolean> {
  // By the clock, not by counting sleeps: a full collection can take longer than the sleep.
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}

/** Collects garbage until the open fd count is back at `target` (objects dropped without close()). */
export function settleFds(target: number): Promise<boolean> {
  return collectUntil(() => openFdCount() <= target);
}
