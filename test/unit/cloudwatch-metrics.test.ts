import 'aws-sdk-client-mock-vitest/extend';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchMetrics } from '../../lambdas/adapters/cloudwatch-metrics.js';
import { DependencyUnavailable } from '../../lambdas/lib/errors.js';
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
  it('asks per ExecutedVersion of the alias and sums the minutes it gets (missing minutes are zero)', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'canary_requests', Values: [100, 120, 90] },
        { Id: 'canary_errors', Values: [1, 0, 2] },
        { Id: 'canary_slow', Values: [2, 1] },
        { Id: 'baseline_requests', Values: [900, 1100, 950, 1000] },
        { Id: 'baseline_errors', Values: [5, 4] },
        { Id: 'baseline_slow', Values: [] },
      ],
    });
    const r = await new CloudWatchMetrics(new CloudWatchClient({})).armCounts(query({ slowThresholdMs: 250 }));

    expect(r).toEqual({ canary: { requests: 310, errors: 3, slow: 3 }, baseline: { requests: 3950, errors: 9, slow: 0 }, slowThresholdMs: 250 });
    const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect(input.StartTime).toEqual(new Date('2026-11-23T10:00:00Z'));
    const slow = input.MetricDataQueries!.find((m) => m.Id === 'canary_slow')!;
    expect(slow.MetricStat).toEqual({
      Metric: { Namespace: 'AWS/Lambda', MetricName: 'Duration', Dimensions: [{ Name: 'FunctionName', Value: 'checkout-prod' }, { Name: 'Resource', Value: 'checkout-prod:live' }, { Name: 'ExecutedVersion', Value: '8' }] },
      Period: 60,
      Stat: 'TC(250:)',
    });
    expect(input.MetricDataQueries!.find((m) => m.Id === 'baseline_errors')!.MetricStat!.Metric!.Dimensions![2]).toEqual({ Name: 'ExecutedVersion', Value: '7' });
  });

  it('derives "slow" from the baseline p99 when the config names no threshold, and follows NextToken', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'baseline_p99', Values: [180.2, 212.7] }] })
      .resolvesOnce({ MetricDataResults: [{ Id: 'canary_requests', Values: [10] }], NextToken: 'page-2' })
      .resolvesOnce({ MetricDataResults: [{ Id: 'canary_requests', Values: [15] }] });
    const r = await new CloudWatchMetrics(new CloudWatchClient({})).armCounts(query());

    expect(r.slowThresholdMs).toBe(213);
    expect(r.canary.requests).toBe(25);
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls[0]!.args[0].input.MetricDataQueries![0]!.MetricStat!.Stat).toBe('p99');
    expect(calls[2]!.args[0].input.NextToken).toBe('page-2');
    expect(calls[1]!.args[0].input.MetricDataQueries!.find((m) => m.Id === 'baseline_slow')!.MetricStat!.Stat).toBe('TC(213:)');
  });

  it('turns throttling that outlived the SDK retries into DependencyUnavailable', async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(new CloudWatchMetrics(new CloudWatchClient({ maxAttempts: 1 })).armCounts(query({ slowThresholdMs: 100 }))).rejects.toBeInstanceOf(DependencyUnavailable);
  });

  it('refuses targets it cannot measure and a baseline without a Lambda version', async () => {
    const m = new CloudWatchMetrics(new CloudWatchClient({}));
    await expect(m.armCounts(query({ target: { type: 'local' } }))).rejects.toThrow(/need a lambda-alias target/);
    await expect(m.armCounts(query({ baseline: { version: 'v1.9.0' } }))).rejects.toThrow(/no Lambda version recorded/);
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
