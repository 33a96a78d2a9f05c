import { expect, it } from 'vitest';
import { formatRow, header } from './table.ts';

it('lines rows up under the header', () => {
  const e = {
    timestamp_ns: 3_500_000_000n,
    pid: 4242,
    uid: 0,
    gid: 0,
    comm: 'bash',
    filename: '/usr/bin/true',
  };
  expect(header()).toBe('TIME(s)   PID     UID   COMM             FILENAME');
  expect(formatRow(e, 1_000_000_000n)).toBe('2.500     4242    0     bash             /usr/bin/true');
});
