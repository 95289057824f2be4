import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTraffic, type Traffic } from '../../local/runtime/traffic.js';
import { ERRORS_X5_DIR, GOOD_DIR, demoConfig, startHarness, statesEntered, type Harness } from '../support/harness.js';

/** Prod's canary through the real ASL, the local weighted router and real requests. */

let h: Harness;
let traffic: Traffic | undefined;
const config = demoConfig({ canary: true });
const prodCanary = config.services.demo!.environments[2]!.canary!;
// Up to 60 looks per step, each 0.3 s of real traffic here (a minute in AWS).
Object.assign(prodCanary, { steps: [25, 50, 100], maxBakeSeconds: 60 * 60 });

beforeAll(async () => {
  h = await startHarness({ config, waits: { 'Bake canary': 300 } });
  await h.publish('v1.0.0');
  // The first release has no baseline to compare with: it takes prod all at once.
  const first = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done;
  expect(first.status).toBe('SUCCEEDED');
  expect(statesEntered(first.history)).not.toContain('Judge canary');
});
afterAll(async () => {
  await traffic?.stop();
  await h?.close();
});

const prod = () => h.rt.deps.ledger.getEnvironment('demo', 'prod');
const users = () => startTraffic(() => h.rt.fleet.endpoint('demo', 'prod'), { paths: ['/api/orders'], concurrency: 32 });

describe('canary releases', () => {
  it('rolls a bad canary back: the baseline has all traffic again', async () => {
    await h.publish('v1.2.0', { dir: ERRORS_X5_DIR });
    traffic = users();
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.2.0' }).done;
    await traffic.stop();
    traffic = undefined;

    expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryFailed' });
    expect(await prod()).toMatchObject({ version: 'v1.0.0', healthy: true, canary: null, lastOutcome: 'rolled-back' });
    expect(h.rt.fleet.version('demo', 'prod')).toBe('v1.0.0');
    expect(h.rt.fleet.canary('demo', 'prod')).toBeUndefined();
    const res = await fetch((await h.rt.fleet.endpoint('demo', 'prod')) + '/health');
    expect(res.headers.get('x-tagflow-version')).toBe('v1.0.0');

    const judged = (await h.rt.deps.ledger.decisions('demo', 'v1.2.0')).filter((d) => d.step === 'judge');
    const last = judged.at(-1)!;
    expect(last.verdict).toBe('failed');
    const evidence = last.evidence as { counts: { canary: { requests: number; errors: number } }; judgement: { metrics: { metric: string; pValue: number; interval: [number, number] }[] } };
    expect(evidence.counts.canary.requests).toBeGreaterThan(0);
    const errors = evidence.judgement.metrics.find((m) => m.metric === 'errors')!;
    expect(errors.pValue).toBeLessThanOrEqual(0.025);
    expect(errors.interval[0]).toBeGreaterThan(1);
    console.log(`bad canary failed after ${judged.length} looks on ${evidence.counts.canary.requests} canary requests (${evidence.counts.canary.errors} errors)`);
  });

  it('promotes a good canary step by step to 100%', async () => {
    // Showing "no worse than 1.5×" at a 1% error rate takes thousands of requests per arm;
    // a local test affords a few thousand, so it proves "no worse than 4×" at an even split.
    Object.assign(prodCanary, { steps: [50, 100], passRatio: 4 });
    await h.publish('v1.0.1');
    traffic = users();
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.1' }).done;
    await traffic.stop();
    traffic = undefined;

    expect([s.status, s.error, s.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(await prod()).toMatchObject({ version: 'v1.0.1', healthy: true, canary: null });
    expect(h.rt.fleet.version('demo', 'prod')).toBe('v1.0.1');
    expect(h.rt.fleet.canary('demo', 'prod')).toBeUndefined();
    const moves = (await h.rt.deps.ledger.decisions('demo', 'v1.0.1')).filter((d) => d.step === 'canary').map((d) => d.summary);
    expect(moves).toEqual([expect.stringContaining('gets 50%'), expect.stringContaining('all of prod')]);
    const passed = (await h.rt.deps.ledger.decisions('demo', 'v1.0.1')).filter((d) => d.step === 'judge' && d.verdict === 'passed');
    expect(passed).toHaveLength(1);
    // Latency was judged on thresholds fixed from the baseline's first requests beside the canary.
    const evidence = passed[0]!.evidence as { latencyThresholds: { tailMs: number; shiftMs: number; basis: string }; judgement: { metrics: { metric: string; verdict: string }[] } };
    expect(evidence.latencyThresholds.basis).toMatch(/^v1\.0\.0's first \d+ requests beside the canary: p90 /);
    expect(evidence.latencyThresholds.shiftMs).toBeGreaterThan(0);
    expect(evidence.latencyThresholds.tailMs).toBeGreaterThanOrEqual(evidence.latencyThresholds.shiftMs);
    expect(evidence.judgement.metrics.map((m) => [m.metric, m.verdict])).toEqual([
      ['errors', 'pass'],
      ['latency', 'pass'],
      ['latency-shift', 'pass'],
    ]);
    expect(h.rt.emitted.filter((e) => e.DetailType === 'Canary Step Passed').map((e) => (e.Detail as { weight: number }).weight)).toEqual([100]);
    console.log(`good canary passed after ${(await h.rt.deps.ledger.decisions('demo', 'v1.0.1')).filter((d) => d.step === 'judge').length} looks`);
  });

  it('ends a canary with no traffic inconclusive, never a pass', async () => {
    Object.assign(prodCanary, { steps: [10, 50, 100], passRatio: 1.5, maxBakeSeconds: 180 }); // three looks
    await h.publish('v1.0.2');
    const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.2' }).done;

    expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryInconclusive' });
    const judged = (await h.rt.deps.ledger.decisions('demo', 'v1.0.2')).filter((d) => d.step === 'judge');
    expect(judged.map((d) => d.verdict)).toEqual(['waiting', 'waiting', 'failed']);
    expect(judged.every((d) => !d.summary.includes('passed'))).toBe(true);
    expect(await prod()).toMatchObject({ version: 'v1.0.1', canary: null });
  });

  it('rolls back a canary whose own custom metric is worse, while its errors and latency are fine', async () => {
    // v1.0.3 answers every order read like v1.0.1 but fails a checkout on one in ten, which it
    // counts as the service's own metric (the baseline counts none).
    const dir = mkdtempSync(join(tmpdir(), 'tagflow-custom-metric-'));
    const good = readFileSync(join(GOOD_DIR, 'app.mjs'), 'utf8');
    writeFileSync(join(dir, 'app.mjs'), good.replace("return Response.json({ status: 'ok', orders });", "if (Math.random() < 0.1) env.count('checkout-failures');\n    return Response.json({ status: 'ok', orders });"));
    Object.assign(prodCanary, {
      steps: [50, 100],
      maxBakeSeconds: 60 * 60,
      customMetrics: [{ name: 'checkout-failures', namespace: 'Demo', metricName: 'CheckoutFailed', dimensions: {}, versionDimension: 'ExecutedVersion' }],
    });
    try {
      await h.publish('v1.0.3', { dir });
      traffic = users();
      const s = await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.3' }).done;
      await traffic.stop();
      traffic = undefined;

      expect(s).toMatchObject({ status: 'FAILED', error: 'CanaryFailed' });
      expect(s.cause).toMatch(/checkout-failures \(custom metric\): canary \d+\/\d+, baseline 0\/\d+/);
      expect(await prod()).toMatchObject({ version: 'v1.0.1', healthy: true, canary: null, lastOutcome: 'rolled-back' });
      const last = (await h.rt.deps.ledger.decisions('demo', 'v1.0.3')).filter((d) => d.step === 'judge').at(-1)!;
      const evidence = last.evidence as { counts: { canary: { custom: Record<string, number> }; baseline: { custom: Record<string, number> } }; judgement: { metrics: { metric: string; verdict: string }[] } };
      expect(evidence.counts.canary.custom['checkout-failures']).toBeGreaterThan(0);
      expect(evidence.counts.baseline.custom).toEqual({ 'checkout-failures': 0 });
      const verdicts = Object.fromEntries(evidence.judgement.metrics.map((m) => [m.metric, m.verdict]));
      expect(verdicts['custom:checkout-failures']).toBe('fail');
      expect(verdicts.errors).not.toBe('fail');
      expect(last.summary).not.toContain('no datapoint');
    } finally {
      prodCanary.customMetrics = [];
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
