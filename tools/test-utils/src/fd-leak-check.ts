/**
 * Vitest setup file of every workspace project (see vitest.shared.ts): fails a test file that
 * leaves a descriptor open. It runs in the process that runs the file (the `forks` pool, one
 * process per file), records the open fds before the file is imported, and compares after the
 * file's own `afterAll` hooks, once the garbage collector has closed what was dropped.
 */
import { afterAll } from 'vitest';
import { collectUntil, openFds } from './fds.ts';

const before = openFds();

/** Fds open now that were not open (or referred to something else) before the file ran. */
function leaked(): string[] {
  return [...openFds()]
    .filter(([fd, target]) => before.get(fd) !== target)
    .map(([fd, target]) => `${fd} -> ${target}`);
}

afterAll(async () => {
  if (await collectUntil(() => leaked().length === 0)) return;
  const fds = leaked();
  throw new Error(
    `this test file leaked ${fds.length} file descriptor(s): ${fds.join(', ')}; ` +
      'close what each test opens (close(), `using`, afterAll)',
  );
}, 30_000);
