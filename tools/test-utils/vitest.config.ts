import { defineConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.ts';

// test/leak-fixture holds test files the fd-leak check's own test runs in a child vitest.
export default defineConfig(projectConfig({ exclude: ['**/node_modules/**', 'test/leak-fixture/**'] }));
