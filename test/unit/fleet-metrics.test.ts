import { describe, expect, it } from 'vitest';
import type { CustomMetric } from '../../lambdas/lib/config.js';
import type { SeriesQuery } from '../../lambdas/lib/period-metrics.js';
import type { MetricsQuery } from '../../lambdas/lib/ports.js';
import type { LocalFleet, RequestSample } from '../../local/runtime/fleet.js';
import { FleetMetrics, FleetSeries } from '../../local/runtime/fleet-metrics.js';

const custom = (name: string): CustomMetric => ({ name, namespace: 'Demo', metricName: name, dimensions: {}, versionDimension: 'ExecutedVersion' });
const query: MetricsQuery = {
  service: 'demo',
  environment: 'prod',
  target: { type: 'local' },
  canary: { version: 'v2', ref: 'v2' },
  baseline: { version: 'v1' },
  since: '2026-11-27T12:00:30Z',
  until: '2026-11-27T12:05:00Z',
  thresholds: { tailMs: 100, shiftMs: 50 },
  custom: [custom('checkout-failures'), custom('refunds')],
};
/** Milliseconds into the window's minutes: minute 0 is 12:00. */
const at = (minute: number, second: number) => Date.parse('2026-11-27T12:00:00Z') + minute * 60_000 + second * 1000;
const fleetOf = (samples: RequestSample[]) =>
  ({ samples: (_s: string, _e: string, since: number, until: number) => samples.filter((s) => s.at >= since && s.at <= until) }) as unknown as LocalFleet;

describe('local fleet metrics', () => {
  it('count each version\'s requests, errors, slow requests and custom events, and name custom metrics nobody counted', async () => {
    const samples: RequestSample[] = [
      { at: at(0, 40), version: 'v2', status: 200, latencyMs: 120, custom: { 'checkout-failures': 2 } },
      { at: at(3, 5), version: 'v2', status: 503, latencyMs: 60 },
      { at: at(1, 0), version: 'v1', status: 200, latencyMs: 20, custom: { 'checkout-failures': 0 } },
      { at: at(4, 59), version: 'v1', status: 200, latencyMs: 70 },
      // Before the window: not counted.
      { at: at(0, 10), version: 'v2', status: 503, latencyMs: 500 },
    ];
    const r = await new FleetMetrics(fleetOf(samples)).armCounts(query);
    expect(r).toEqual({
      canary: { requests: 2, errors: 1, slow: 1, slowShift: 2, custom: { 'checkout-failures': 2, refunds: 0 } },
      baseline: { requests: 2, errors: 0, slow: 0, slowShift: 1, custom: { 'checkout-failures': 0, refunds: 0 } },
      // Counted as 0 is still published; never counted is not.
      unpublished: ['refunds'],
    });
  });

  it('answer in CloudWatch\'s shape: a value per minute the version served in, minutes without requests absent', async () => {
    const samples: RequestSample[] = [
      { at: at(0, 31), version: 'v2', status: 200, latencyMs: 10 },
      { at: at(0, 59), version: 'v2', status: 500, latencyMs: 300 },
      { at: at(2, 0), version: 'v2', status: 200, latencyMs: 30, custom: { refunds: 1 } },
      { at: at(2, 1), version: 'v1', status: 200, latencyMs: 40 },
    ];
    const series = (id: string, metric: SeriesQuery['metric'], stat: SeriesQuery['stat'], periodSeconds = 60): SeriesQuery => ({ id, arm: 'canary', metric, stat, periodSeconds });
    const values = await new FleetSeries(fleetOf(samples)).read(query, query, [
      series('requests', 'requests', { kind: 'sum' }),
      series('errors', 'errors', { kind: 'sum' }),
      series('slow', 'duration', { kind: 'countOver', ms: 100 }),
      series('refunds', { custom: custom('refunds') }, { kind: 'sum' }),
      series('p99', 'duration', { kind: 'percentile', p: 99 }, 300),
      { ...series('baseline', 'requests', { kind: 'sum' }), arm: 'baseline' },
    ]);
    // Minutes 12:00 and 12:02; nothing for 12:01, 12:03 or 12:04.
    expect(Object.fromEntries(values)).toEqual({ requests: [2, 1], errors: [1, 0], slow: [1, 0], refunds: [1], p99: [300], baseline: [1] });
  });
});
