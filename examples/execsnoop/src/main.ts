/**
 * `pnpm start` (as root): prints a row for every program executed on this machine until Ctrl-C,
 * then how many execs the kernel counted.
 */
import { hrtime } from 'node:process';
import { ExecSnoop } from './execsnoop.ts';
import { formatRow, header } from './table.ts';

const snoop = new ExecSnoop();
// bpf_ktime_get_ns and hrtime both read CLOCK_MONOTONIC.
const start = hrtime.bigint();
process.once('SIGINT', () => {
  console.log(`\n${snoop.count} execs`);
  snoop.close();
});
console.log(header());
for await (const e of snoop.events()) console.log(formatRow(e, start));
