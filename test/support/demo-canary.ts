import { join } from 'node:path';
import type { ExecutionSummary } from '../../local/runtime/runtime.js';
import { demoConfig, ERRORS_X5_DIR, GOOD_DIR, ROOT, startHarness, type Harness } from './harness.js';

/** The demo's healthy build: v1.0.0 without its upstream timeouts (local/demo.ts). */
export const HEALTHY_DIR = join(ROOT, 'examples', 'demo-service', 'v1.3.0');

/** Prod's users in one simulated minute (one look of the judge), as in `npm run demo`. */
export const PER_MINUTE = 400;

export interface DemoCanaryReleases {
  h: Harness;
  /** v1.2.0: five times the errors, failed at prod's canary and rolled back. */
  failed: ExecutionSummary;
  /** v1.3.0: within its margins at each step, promoted to all of prod. */
  passed: ExecutionSummary;
}

/**
 * The demo's canary releases (local/demo.ts) through the real ASL: v1.0.0 everywhere, then
 * v1.2.0 and v1.3.0 through prod's canary (steps 10% → 50% → 100%, passRatio 4) while prod's
 * users send PER_MINUTE order reads before each look; slow means over 20 ms, as in the demo;
 * alpha 0.001 (below).
 * The caller closes `h`.
 */
export async function runDemoCanaryReleases(): Promise<DemoCanaryReleases> {
  const config = demoConfig({ canary: true });
  const prod = config.services.demo!.environments.find((e) => e.name === 'prod')!;
  prod.canary!.slowThresholdMs ??= 20;
  // The reports need a verdict that does not hang on this machine's load: the demo's latencies are
  // real timers, so a busy moment can look like a shift. A stricter alpha still fails v1.2.0's
  // five times the errors within a few looks and makes a load-driven failure of v1.3.0 far rarer.
  prod.canary!.alpha = 0.001;
  const h = await startHarness({ config, waits: { 'Bake canary': 0 } });
  try {
    const release = async (version: string, dir: string, users: boolean) => {
      await h.publish(version, { dir });
      const u = users ? h.users('demo', 'prod', { perMinute: PER_MINUTE, paths: ['/api/orders'] }) : undefined;
      try {
        return await h.rt.startExecution('release', { service: 'demo', version }).done;
      } finally {
        u?.stop();
      }
    };
    const first = await release('v1.0.0', GOOD_DIR, false);
    if (first.status !== 'SUCCEEDED') throw new Error(`demo v1.0.0 did not ship: ${first.status} ${first.error ?? ''} ${first.cause ?? ''}`);
    const failed = await release('v1.2.0', ERRORS_X5_DIR, true);
    const passed = await release('v1.3.0', HEALTHY_DIR, true);
    return { h, failed, passed };
  } catch (err) {
    await h.close();
    throw err;
  }
}
