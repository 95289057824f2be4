import { describe, expect, it } from 'vitest';
import type { CustomMetric } from '../../lambdas/lib/config.js';
import type { MetricsQuery } from '../../lambdas/lib/ports.js';
import type { LocalFleet, RequestSample } from '../../local/runtime/fleet.js';
import { FleetMetrics } from '../../local/runtime/fleet-metrics.js';

const custom = (name: string): CustomMetric => ({ name, namespace: 'Demo', metricName: name, dimensions: {}, versionDimension: 'ExecutedVersion' });
const query: MetricsQuery = {
  service: 'demo',
  environment: 'prod',
  target: { type: 'local' },
  canary: { version: 'v2', ref: 'v2' },
  baseline: { version: 'v1' },
  since: '2026-11-27T12:00:00Z',
  until: '2026-11-27T12:05:00Z',
  thresholds: { tailMs: 100, shiftMs: 50 },
  custom: [custom('checkout-failures'), custom('refunds')],
};

describe('local fleet metrics', () => {
  it('count each version\'s requests, errors, slow requests and custom events, and name custom metrics nobody counted', async () => {
    const samples: RequestSample[] = [
      { at: 1, version: 'v2', status: 200, latencyMs: 120, custom: { 'checkout-failures': 2 } },
      { at: 2, version: 'v2', status: 503, latencyMs: 60 },
      { at: 3, version: 'v1', status: 200, latencyMs: 20, custom: { 'checkout-failures': 0 } },
      { at: 4, version: 'v1', status: 200, latencyMs: 70 },
    ];
    const fleet = { samples: () => samples } as unknown as LocalFleet;
    const r = await new FleetMetrics(fleet).armCounts(query);
    expect(r).toEqual({
      canary: { requests: 2, errors: 1, slow: 1, slowShift: 2, custom: { 'checkout-failures': 2, refunds: 0 } },
      baseline: { requests: 2, errors: 0, slow: 0, slowShift: 1, custom: { 'checkout-failures': 0, refunds: 0 } },
      // Counted as 0 is still published; never counted is not.
      unpublished: ['refunds'],
    });
  });
});
