import 'aws-sdk-client-mock-vitest/extend';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchMetrics } from '../../lambdas/adapters/cloudwatch-metrics.js';
import { DependencyUnavailable } from '../../lambdas/lib/errors.js';
import type { CustomMetric } from '../../lambdas/lib/config.js';
import type { MetricsQuery } from '../../lambdas/lib/ports.js';

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());

const query = (extra: Partial<MetricsQuery> = {}): MetricsQuery => ({
  service: 'checkout',
  environment: 'prod',
  target: { type: 'lambda-alias', functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip' },
  canary: { version: 'v2.0.0', ref: '8' },
  baseline: { version: 'v1.9.0', ref: '7' },
  since: '2026-11-23T10:00:00Z',
  until: '2026-11-23T10:05:00Z',
  ...extra,
});

describe('CloudWatch canary metrics', () => {
  it('asks per ExecutedVersion of the alias, counts requests over both thresholds, and sums the minutes it gets (missing minutes are zero)', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'canary_requests', Values: [100, 120, 90] },
        { Id: 'canary_errors', Values: [1, 0, 2] },
        { Id: 'canary_slow', Values: [2, 1] },
        { Id: 'canary_slowshift', Values: [20, 14, 9] },
        { Id: 'baseline_requests', Values: [900, 1100, 950, 1000] },
        { Id: 'baseline_errors', Values: [5, 4] },
        { Id: 'baseline_slow', Values: [] },
        { Id: 'baseline_slowshift', Values: [90, 101, 97, 99] },
      ],
    });
    const r = await new CloudWatchMetrics(new CloudWatchClient({})).armCounts(query({ thresholds: { tailMs: 249.2, shiftMs: 120 } }));

    expect(r).toEqual({ canary: { requests: 310, errors: 3, slow: 3, slowShift: 43 }, baseline: { requests: 3950, errors: 9, slow: 0, slowShift: 387 } });
    const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date('2026-11-23T10:00:00Z'));
    const slow = input.MetricDataQueries!.find((m) => m.Id === 'canary_slow')!;
    expect(slow.MetricStat).toEqual({
      Metric: { Namespace: 'AWS/Lambda', MetricName: 'Duration', Dimensions: [{ Name: 'FunctionName', Value: 'checkout-prod' }, { Name: 'Resource', Value: 'checkout-prod:live' }, { Name: 'ExecutedVersion', Value: '8' }] },
      Period: 60,
      Stat: 'TC(250:)',
    });
    expect(input.MetricDataQueries!.find((m) => m.Id === 'baseline_slowshift')!.MetricStat!.Stat).toBe('TC(120:)');
    expect(input.MetricDataQueries!.find((m) => m.Id === 'baseline_errors')!.MetricStat!.Metric!.Dimensions![2]).toEqual({ Name: 'ExecutedVersion', Value: '7' });
  });

  it('does not count slow requests before the thresholds are fixed, and follows NextToken', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'canary_requests', Values: [10] }], NextToken: 'page-2' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'canary_requests', Values: [15] }] });
    const r = await new CloudWatchMetrics(new CloudWatchClient({})).armCounts(query());

    expect(r.canary).toEqual({ requests: 25, errors: 0, slow: 0, slowShift: 0 });
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls[0]!.args[0].input.MetricDataQueries!.map((m) => m.Id)).toEqual(['canary_requests', 'canary_errors', 'baseline_requests', 'baseline_errors']);
    expect(calls[1]!.args[0].input.NextToken).toBe('page-2');
  });

  it('reads each custom metric per arm by the dimension naming the Lambda version that served', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'canary_requests', Values: [100, 100] },
        { Id: 'canary_custom0', Values: [3, 4] },
        { Id: 'canary_custom1', Values: [] },
        { Id: 'baseline_requests', Values: [900, 900] },
        { Id: 'baseline_custom0', Values: [9, 8.6] },
        { Id: 'baseline_custom1', Values: [1] },
      ],
    });
    const custom: CustomMetric[] = [
      { name: 'checkout-failures', namespace: 'Shop', metricName: 'CheckoutFailed', dimensions: { Service: '{service}', Stage: '{environment}' }, versionDimension: 'ExecutedVersion' },
      { name: 'refunds', namespace: 'Shop/Payments', metricName: 'Refunds', dimensions: {}, versionDimension: 'FunctionVersion' },
      { name: 'chargebacks', namespace: 'Shop/Payments', metricName: 'Chargebaks', dimensions: {}, versionDimension: 'ExecutedVersion' },
    ];
    const r = await new CloudWatchMetrics(new CloudWatchClient({})).armCounts(query({ custom }));

    expect(r.canary).toEqual({ requests: 200, errors: 0, slow: 0, slowShift: 0, custom: { 'checkout-failures': 7, refunds: 0, chargebacks: 0 } });
    expect(r.baseline.custom).toEqual({ 'checkout-failures': 18, refunds: 1, chargebacks: 0 });
    // No datapoint from either version (here a typo in the metric name) is told apart from zero events.
    expect(r.unpublished).toEqual(['chargebacks']);
    const queries = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
    expect(queries.find((m) => m.Id === 'canary_custom0')!.MetricStat).toEqual({
      Metric: { Namespace: 'Shop', MetricName: 'CheckoutFailed', Dimensions: [{ Name: 'Service', Value: 'checkout' }, { Name: 'Stage', Value: 'prod' }, { Name: 'ExecutedVersion', Value: '8' }] },
      Period: 60,
      Stat: 'Sum',
    });
    expect(queries.find((m) => m.Id === 'baseline_custom1')!.MetricStat!.Metric).toEqual({ Namespace: 'Shop/Payments', MetricName: 'Refunds', Dimensions: [{ Name: 'FunctionVersion', Value: '7' }] });
  });

  it('reads the baseline version\'s latency over the whole window in one period', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'requests', Values: [41_000, 3_000] },
        { Id: 'p90', Values: [180.4, 190.1] },
        { Id: 'p99', Values: [402.5, 388] },
      ],
    });
    const m = new CloudWatchMetrics(new CloudWatchClient({}));

    expect(await m.baselineLatency({ ...query(), since: '2026-11-23T09:00:00Z', until: '2026-11-23T10:00:30Z' })).toEqual({ requests: 44_000, p90Ms: 190.1, p99Ms: 402.5 });
    const q = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input.MetricDataQueries!;
    expect(q.map((x) => [x.Id, x.MetricStat!.Stat, x.MetricStat!.Period])).toEqual([
      ['requests', 'Sum', 3660],
      ['p90', 'p90', 3660],
      ['p99', 'p99', 3660],
    ]);
    expect(q[1]!.MetricStat!.Metric!.Dimensions![2]).toEqual({ Name: 'ExecutedVersion', Value: '7' });
    await expect(m.baselineLatency(query({ baseline: { version: 'v1.9.0' } }))).rejects.toThrow(/no Lambda version recorded/);
  });

  it('turns throttling that outlived the SDK retries into DependencyUnavailable', async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(new CloudWatchMetrics(new CloudWatchClient({ maxAttempts: 1 })).armCounts(query({ thresholds: { tailMs: 100, shiftMs: 50 } }))).rejects.toBeInstanceOf(DependencyUnavailable);
  });

  it('refuses targets it cannot measure and a baseline without a Lambda version', async () => {
    const m = new CloudWatchMetrics(new CloudWatchClient({}));
    await expect(m.armCounts(query({ target: { type: 'local' } }))).rejects.toThrow(/need a lambda-alias target/);
    await expect(m.armCounts(query({ baseline: { version: 'v1.9.0' } }))).rejects.toThrow(/no Lambda version recorded/);
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
