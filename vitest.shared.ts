import { fileURLToPath } from 'node:url';
import { defaultServerConditions } from 'vite';
import type { ViteUserConfig } from 'vitest/config';

/** Fails a test file that leaves a descriptor open (tools/test-utils/src/fd-leak-check.ts). */
const fdLeakCheck = fileURLToPath(new URL('./tools/test-utils/src/fd-leak-check.ts', import.meta.url));

/**
 * The vitest settings every workspace project shares: sources resolved through the
 * `@ebpf/source` export condition (no build needed to test across packages), a JSON report per
 * run that `tools/test-summary.mjs` adds up into CI's `tests:` line (`test:unit` and
 * `test:kernel` name their own), and the fd-leak check. The check counts this process's fds, so
 * every file runs in a process of its own: the `forks` pool with isolation, never threads.
 */
export function projectConfig(overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  const conditions = ['@ebpf/source', ...defaultServerConditions];
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@ebpf/source'] } },
    test: {
      reporters: ['default', 'json'],
      outputFile: { json: '.vitest/results.json' },
      testTimeout: 30_000,
      pool: 'forks',
      isolate: true,
      setupFiles: [fdLeakCheck],
      ...overrides,
    },
  };
}
