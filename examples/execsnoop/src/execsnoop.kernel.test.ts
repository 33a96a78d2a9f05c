import { spawnSync } from 'node:child_process';
import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { type ExecEvent, ExecSnoop } from './execsnoop.ts';

requireKernel('execsnoop example', () => {
  it('sees a process it executes, with its pid, uid, comm and file name', async () => {
    const before = openFdCount();
    const snoop = new ExecSnoop();
    try {
      const child = spawnSync('/bin/sh', ['-c', 'exit 0']);
      expect(child.status).toBe(0);
      let seen: ExecEvent | undefined;
      const timeout = setTimeout(() => snoop.close(), 5000);
      for await (const e of snoop.events()) {
        if (e.pid !== child.pid) continue;
        seen = e;
        break;
      }
      clearTimeout(timeout);
      expect(seen).toMatchObject({
        pid: child.pid,
        uid: process.getuid?.(),
        comm: 'sh',
        filename: '/bin/sh',
      });
      expect(snoop.count).toBeGreaterThanOrEqual(1n);
    } finally {
      snoop.close();
    }
    expect(openFdCount()).toBe(before);
  });
});
