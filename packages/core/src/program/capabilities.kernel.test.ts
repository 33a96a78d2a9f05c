import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { PermissionError } from '../errors.ts';
import { BpfProgram } from './program.ts';

/** Set in the child this file starts again without CAP_NET_ADMIN (and CAP_SYS_ADMIN). */
const inChild = process.env.EBPF_TEST_NO_NET_ADMIN_CHILD === '1';
const thisFile = fileURLToPath(import.meta.url);
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const returnZero = [mov64(R0, 0), exit()];

if (inChild) {
  describe('program loads without CAP_NET_ADMIN (the child)', () => {
    it('names just the capability a networking program lacks', () => {
      let error: unknown;
      try {
        BpfProgram.load({ type: 'xdp', instructions: returnZero, license: 'GPL' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PermissionError);
      const message = (error as Error).message;
      expect(message).toMatch(
        /xdp programs need CAP_BPF and CAP_NET_ADMIN: grant CAP_NET_ADMIN, or run as root/,
      );
      expect(message).not.toMatch(/CAP_PERFMON/);
      // A type that needs no CAP_NET_ADMIN still loads.
      using filter = BpfProgram.load({ type: 'socket_filter', instructions: returnZero, license: 'GPL' });
      expect(filter.fd).toBeGreaterThan(0);
    });
  });
} else {
  requireKernel('program loads without CAP_NET_ADMIN', () => {
    it('tell a child without CAP_NET_ADMIN which capability an xdp program needs', () => {
      // Root with CAP_NET_ADMIN gone from the bounding set: the child execs without it, and without
      // CAP_SYS_ADMIN, which the kernel accepts in its place; it keeps CAP_BPF.
      const drop = '-net_admin,-sys_admin';
      const run = spawnSync(
        'setpriv',
        [`--inh-caps=${drop}`, `--bounding-set=${drop}`, process.execPath, vitest, 'run', thisFile],
        {
          cwd: dirname(thisFile),
          encoding: 'utf8',
          env: { ...process.env, EBPF_TEST_NO_NET_ADMIN_CHILD: '1' },
        },
      );
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/1 passed/);
    });
  });
}
