import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['local/runtime/polyfills.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one on a 2-core machine, which made CI serial (534 s of tests).
    // Two forks use both cores; the tests drive time and traffic themselves, so a busy machine slows them, never fails them.
    maxWorkers: 2,
  },
});
