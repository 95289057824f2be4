import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseUnderTraffic } from '../support/canary-traffic.js';
import { ERRORS_X5_DIR, GOOD_DIR, demoConfig, prodOf, startHarness, statesEntered, type Harness } from '../support/harness.js';

/**
 * Prod's canary through the real ASL, the local weighted router and real requests. Each test
 * has its own service (a copy of demo with its own canary config), so it sets up its own
 * baseline and reads nothing another test left. Time is simulated minutes: the Bake canary
 * wait takes no time here, and before each look of the judge the test's users send exactly
 * PER_MINUTE requests, so every look judges a known number of requests however fast the
 * machine is (the split between the arms is the router's, at random, as in AWS).
 */

const PER_MINUTE = 400;
// Up to 60 looks (simulated minutes) per step unless a test says otherwise.
const canary = (changes: Record<string, unknown>) => (s: Parameters<typeof prodOf>[0]) => void Object.assign(prodOf(s).canary!, { maxBakeSeconds: 60 * 60, ...changes });
const config = demoConfig({
  canary: true,
  services: {
    'bad-canary': canary({ steps: [25, 50, 100] }),
    // Showing "no worse than 1.5×" at a 1% error rate takes thousands of requests per arm;
    // a local test affords a few thousand, so it proves "no worse than 4×" at an even split.
    // A fixed slow threshold (about 7% of the demo's reads take over 20 ms): the default, the
    // baseline's p99 when the canary starts, is whatever a busy machine's worst moment was, and
    // with next to no slow requests in either arm latency could never be shown no worse.
    'good-canary': canary({ steps: [50, 100], passRatio: 4, slowThresholdMs: 20 }),
    'quiet-canary': canary({ steps: [10, 50, 100], passRatio: 1.5, maxBakeSeconds: 180 }), // three looks
    'custom-canary': canary({
      steps: [50, 100],
      customMetrics: [{ name: 'checkout-failures', namespace: 'Demo', metricName: 'CheckoutFailed', dimensions: {}, versionDimension: 'ExecutedVersion' }],
    }),
  },
});

// However slow the machine, a test sends a bounded number of requests: the timeout only guards against a hang.
const SLOW_MACHINE = { timeout: 180_000 };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config, waits: { 'Bake canary': 0 } });
}, 60_000);
afterAll(async () => h?.close());

const prod = (service: string) => h.rt.deps.ledger.getEnvironment(service, 'prod');
const decisions = (service: string, version: string) => h.rt.deps.ledger.decisions(service, version);
const release = (service: string, version: string) => h.rt.startExecution('release', { service, version }).done;

/** The first release of a service has no baseline to compare with: it takes prod all at once. */
async function firstRelease(service: string): Promise<void> {
  await h.publish('v1.0.0', { service });
  const first = await release(service, 'v1.0.0');
  expect(first.status).toBe('SUCCEEDED');
  expect(statesEntered(first.history)).not.toContain('Judge canary');
}

describe('canary releases', () => {
  it('rolls a bad canary back: the baseline has all traffic again', SLOW_MACHINE, async () => {
    const service = 'bad-canary';
    await firstRelease(service);
    await h.publish('v1.2.0', { service, dir: ERRORS_X5_DIR });
    const { s, judged } = await releaseUnderTraffic(h, service, 'v1.2.0', PER_MINUTE);

    expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryFailed' });
    expect(await prod(service)).toMatchObject({ version: 'v1.0.0', healthy: true, canary: null, lastOutcome: 'rolled-back' });
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.0.0');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    const res = await fetch((await h.rt.fleet.endpoint(service, 'prod')) + '/health');
    expect(res.headers.get('x-tagflow-version')).toBe('v1.0.0');

    const last = judged.at(-1)!;
    expect(last.verdict).toBe('failed');
    const evidence = last.evidence as { counts: { canary: { requests: number; errors: number } }; judgement: { metrics: { metric: string; pValue: number; interval: [number, number] }[] } };
    expect(evidence.counts.canary.requests).toBeGreaterThan(0);
    const errors = evidence.judgement.metrics.find((m) => m.metric === 'errors')!;
    expect(errors.pValue).toBeLessThanOrEqual(0.025);
    expect(errors.interval[0]).toBeGreaterThan(1);
    console.log(`bad canary failed after ${judged.length} looks (${judged.length * PER_MINUTE} requests) on ${evidence.counts.canary.requests} canary requests (${evidence.counts.canary.errors} errors)`);
  });

  it('promotes a good canary step by step to 100%', SLOW_MACHINE, async () => {
    const service = 'good-canary';
    await firstRelease(service);
    await h.publish('v1.0.1', { service });
    const { s, judged } = await releaseUnderTraffic(h, service, 'v1.0.1', PER_MINUTE);

    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(await prod(service)).toMatchObject({ version: 'v1.0.1', healthy: true, canary: null });
    expect(h.rt.fleet.version(service, 'prod')).toBe('v1.0.1');
    expect(h.rt.fleet.canary(service, 'prod')).toBeUndefined();
    const moves = (await decisions(service, 'v1.0.1')).filter((d) => d.step === 'canary').map((d) => d.summary);
    expect(moves).toEqual([expect.stringContaining('gets 50%'), expect.stringContaining('all of prod')]);
    const passed = judged.filter((d) => d.verdict === 'passed');
    expect(passed).toHaveLength(1);
    // Latency was judged on the configured slow threshold and a shift threshold fixed from the baseline's first requests beside the canary.
    const evidence = passed[0]!.evidence as { latencyThresholds: { tailMs: number; shiftMs: number; basis: string }; judgement: { metrics: { metric: string; verdict: string }[] } };
    expect(evidence.latencyThresholds.basis).toMatch(/^v1\.0\.0's first \d+ requests beside the canary: p90 /);
    expect(evidence.latencyThresholds.shiftMs).toBeGreaterThan(0);
    expect(evidence.latencyThresholds.tailMs).toBe(20);
    expect(evidence.judgement.metrics.map((m) => [m.metric, m.verdict])).toEqual([
      ['errors', 'pass'],
      ['latency', 'pass'],
      ['latency-shift', 'pass'],
    ]);
    const stepsPassed = h.rt.emitted.filter((e) => e.DetailType === 'Canary Step Passed' && (e.Detail as { service: string }).service === service);
    expect(stepsPassed.map((e) => (e.Detail as { weight: number }).weight)).toEqual([100]);
    console.log(`good canary passed after ${judged.length} looks (${judged.length * PER_MINUTE} requests)`);
  });

  it('ends a canary with no traffic inconclusive, never a pass', SLOW_MACHINE, async () => {
    const service = 'quiet-canary';
    await firstRelease(service);
    await h.publish('v1.0.2', { service });
    const s = await release(service, 'v1.0.2');

    expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryInconclusive' });
    const judged = (await decisions(service, 'v1.0.2')).filter((d) => d.step === 'judge');
    expect(judged.map((d) => d.verdict)).toEqual(['waiting', 'waiting', 'failed']);
    // Nobody sent a request in those three minutes.
    expect(judged.map((d) => (d.evidence as { counts: { canary: { requests: number }; baseline: { requests: number } } }).counts)).toEqual(
      Array(3).fill({ canary: expect.objectContaining({ requests: 0 }), baseline: expect.objectContaining({ requests: 0 }) }),
    );
    expect(judged.every((d) => !d.summary.includes('passed'))).toBe(true);
    expect(await prod(service)).toMatchObject({ version: 'v1.0.0', canary: null });
  });

  it('rolls back a canary whose own custom metric is worse, while its errors and latency are fine', SLOW_MACHINE, async () => {
    const service = 'custom-canary';
    // v1.0.3 answers every order read like v1.0.0 but fails a checkout on one in ten, which it
    // counts as the service's own metric (the baseline counts none).
    const dir = mkdtempSync(join(tmpdir(), 'tagflow-custom-metric-'));
    const good = readFileSync(join(GOOD_DIR, 'app.mjs'), 'utf8');
    writeFileSync(join(dir, 'app.mjs'), good.replace("return Response.json({ status: 'ok', orders });", "if (Math.random() < 0.1) env.count('checkout-failures');\n    return Response.json({ status: 'ok', orders });"));
    try {
      await firstRelease(service);
      await h.publish('v1.0.3', { service, dir });
      const { s, judged } = await releaseUnderTraffic(h, service, 'v1.0.3', PER_MINUTE);

      expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryFailed' });
      expect(s.cause).toMatch(/checkout-failures \(custom metric\): canary \d+\/\d+, baseline 0\/\d+/);
      expect(await prod(service)).toMatchObject({ version: 'v1.0.0', healthy: true, canary: null, lastOutcome: 'rolled-back' });
      const last = judged.at(-1)!;
      const evidence = last.evidence as { counts: { canary: { custom: Record<string, number> }; baseline: { custom: Record<string, number> } }; judgement: { metrics: { metric: string; verdict: string }[] } };
      expect(evidence.counts.canary.custom['checkout-failures']).toBeGreaterThan(0);
      expect(evidence.counts.baseline.custom).toEqual({ 'checkout-failures': 0 });
      const verdicts = Object.fromEntries(evidence.judgement.metrics.map((m) => [m.metric, m.verdict]));
      expect(verdicts['custom:checkout-failures']).toBe('fail');
      expect(verdicts.errors).not.toBe('fail');
      expect(last.summary).not.toContain('no datapoint');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
