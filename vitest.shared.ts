import { defaultServerConditions } from 'vite';
import type { ViteUserConfig } from 'vitest/config';

/**
 * The vitest settings every workspace project shares: sources resolved through the
 * `@ebpf/source` export condition (no build needed to test across packages), and a JSON
 * report per project that `tools/test-summary.mjs` adds up into CI's `tests:` line.
 */
export function projectConfig(overrides: ViteUserConfig['test'] = {}): ViteUserConfig {
  const conditions = ['@ebpf/source', ...defaultServerConditions];
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@ebpf/source'] } },
    test: {
      reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
      testTimeout: 30_000,
      ...overrides,
    },
  };
}
