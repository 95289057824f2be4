import { afterAll, beforeAll, expect, it } from 'vitest';
import { releaseUnderTraffic } from '../support/canary-traffic.js';
import { ERRORS_X5_DIR, demoConfig, prodOf, startHarness, type Harness } from '../support/harness.js';

/**
 * The local fleet stamps each request with the runtime's clock, the one the judge reads its
 * windows on. That clock moves ahead of the machine's when a Wait until a timestamp (a
 * deployment window) is compressed; a canary judged after such a jump still sees every request
 * its users sent, instead of none (which would end a canary of a service with traffic
 * inconclusive, or a bad canary without its errors seen).
 */

const PER_MINUTE = 200;
const service = 'windowed';
const config = demoConfig({
  canary: true,
  services: { [service]: (s) => void Object.assign(prodOf(s).canary!, { steps: [25, 50, 100], maxBakeSeconds: 60 * 60 }) },
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config, waits: { 'Bake canary': 0 } });
}, 60_000);
afterAll(async () => h?.close());

it('judges every request of a canary that runs after the clock jumped two hours ahead', { timeout: 180_000 }, async () => {
  await h.publish('v1.0.0', { service });
  expect((await h.rt.startExecution('release', { service, version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
  const before = Date.now();
  expect(h.rt.clock.advanceTo(new Date(before + 2 * 3600_000))).toBeGreaterThan(0);

  await h.publish('v1.2.0', { service, dir: ERRORS_X5_DIR });
  const { s, judged } = await releaseUnderTraffic(h, service, 'v1.2.0', PER_MINUTE);

  expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryFailed' });
  expect(judged.at(-1)!.verdict).toBe('failed');
  expect(Date.parse(judged[0]!.at)).toBeGreaterThanOrEqual(before + 2 * 3600_000);
});
