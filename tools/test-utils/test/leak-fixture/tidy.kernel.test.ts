import { closeSync, openSync } from 'node:fs';
import { expect, it } from 'vitest';

// Opened while the file is imported, closed by a test: the check must not count it.
const early = openSync('/dev/zero', 'r');

it('closes what it opens', () => {
  const fd = openSync('/dev/null', 'r');
  closeSync(fd);
  closeSync(early);
  expect(fd).toBeGreaterThan(2);
});
