import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/src/**/*.test.{ts,tsx}'],
    // Dashboard component tests declare `// @vitest-environment jsdom` in their first line.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PostgreSQL suites share one server: each creates its own schema, so files may run in parallel.
    pool: 'forks',
    // End-to-end tests run the built CLI: build dist/ once before any test file runs.
    globalSetup: ['test/e2e/global-setup.ts'],
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
