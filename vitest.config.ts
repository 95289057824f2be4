import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    setupFiles: ['local/runtime/polyfills.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default is one worker less than the cores: one on a 2-core machine, which made CI serial (534 s of tests).
    // Two forks use both cores; the tests drive time and traffic themselves, so a busy machine slows them, never fails them.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        // The infra tests synthesise the real app: pure functions of their config and context
        // (no mocks, no environment, no module state), so a worker keeps aws-cdk-lib loaded from
        // one file to the next instead of loading it again per file (CI: 124 s of them → 67 s).
        test: { name: 'infra', include: ['test/infra/**/*.test.ts'], isolate: false },
      },
      {
        extends: true,
        test: { name: 'runtime', include: ['test/**/*.test.ts'], exclude: ['test/infra/**'] },
      },
    ],
  },
});
