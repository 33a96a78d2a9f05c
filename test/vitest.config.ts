import { defineConfig } from 'vitest/config';
import { projectConfig } from '../vitest.shared.ts';

// Kernel objects and interfaces are shared state: one file at a time keeps fd counts and
// interface lists meaningful.
export default defineConfig(projectConfig({ fileParallelism: false, testTimeout: 120_000 }));
