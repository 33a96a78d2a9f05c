import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireKernel } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { PermissionError } from '../errors.ts';
import { mayUseBpf } from '../internal/feature.ts';
import { features } from './probes.ts';

/** Set in the child this file starts again without capabilities. */
const inChild = process.env.EBPF_TEST_UNPRIVILEGED_CHILD === '1';
const thisFile = fileURLToPath(import.meta.url);
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

if (inChild) {
  describe('features without CAP_BPF or CAP_SYS_ADMIN (the child)', () => {
    it('cannot tell, and says it is for lack of permission', () => {
      expect(mayUseBpf()).toBe(false);
      for (const probe of [
        features.probeMapType('hash'),
        features.probeProgramType('xdp'),
        features.probeHelper('xdp', 'bpf_map_lookup_elem'),
      ]) {
        expect(probe, probe.feature).toMatchObject({ supported: false, status: 'unknown' });
        expect(probe.reason, probe.feature).toMatch(/cannot tell: permission denied/);
      }
      expect(() => features.requireMapType('hash')).toThrow(PermissionError);
      expect(() => features.requireMapType('hash')).toThrow(/cannot tell whether map type hash is supported/);
    });
  });
} else {
  requireKernel('features without privileges', () => {
    it('answer "cannot tell: permission" in a child without CAP_BPF or CAP_SYS_ADMIN', () => {
      // Root's uid with an empty bounding set: exec gives the child no capabilities at all.
      const run = spawnSync(
        'setpriv',
        ['--inh-caps=-all', '--bounding-set=-all', process.execPath, vitest, 'run', thisFile],
        {
          cwd: dirname(thisFile),
          encoding: 'utf8',
          env: { ...process.env, EBPF_TEST_UNPRIVILEGED_CHILD: '1' },
        },
      );
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/1 passed/);
    });
  });
}
