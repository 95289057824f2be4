import { readdirSync, readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Unit test files that change something every file shares (an SDK client's prototype through
 * aws-sdk-client-mock, a spy on console, the environment, the runtime's step table, the
 * timers): each runs in its own module graph. The others are pure functions of their inputs and
 * share a worker's loaded modules, which saves loading them once per file.
 */
const SHARES_GLOBALS = /mockClient|vi\.mock|vi\.spyOn|vi\.stub|process\.env|STEP_RUNS|globalThis|useFakeTimers|setSystemTime|runTagflow/;
const UNIT = 'test/unit';
const touchesGlobals = readdirSync(UNIT)
  .filter((f) => f.endsWith('.test.ts') && SHARES_GLOBALS.test(readFileSync(`${UNIT}/${f}`, 'utf8')))
  .map((f) => `${UNIT}/${f}`);

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
        // 62 of 77 unit files: 47 s → 16 s on their own.
        test: { name: 'unit', include: [`${UNIT}/*.test.ts`], exclude: touchesGlobals, isolate: false },
      },
      {
        extends: true,
        test: { name: 'runtime', include: ['test/**/*.test.ts'], exclude: ['test/infra/**', `${UNIT}/*.test.ts`] },
      },
      ...(touchesGlobals.length ? [{ extends: true as const, test: { name: 'unit-alone', include: touchesGlobals } }] : []),
    ],
  },
});
