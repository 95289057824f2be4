import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { ArmMetrics, MetricsQuery, MetricsSource } from '../lib/ports.js';
import { call } from './transient.js';

/**
 * Canary metrics from CloudWatch: Lambda publishes Invocations, Errors and Duration per
 * alias (`Resource` = function:alias) and per `ExecutedVersion`, so each arm of a weighted
 * alias has its own series. Slow requests are counted with the trimmed-count statistic
 * `TC(threshold:)` on Duration (the number of invocations at or above the threshold), never
 * by comparing per-minute percentiles of arms with different traffic shares. Minutes without
 * a datapoint (no traffic) are absent from CloudWatch's answer and count as zero.
 */

const PERIOD_SECONDS = 60;

export class CloudWatchMetrics implements MetricsSource {
  constructor(private readonly cloudwatch: CloudWatchClient) {}

  async armCounts(q: MetricsQuery): Promise<{ canary: ArmMetrics; baseline: ArmMetrics; slowThresholdMs: number }> {
    if (q.target.type !== 'lambda-alias') throw new Error(`CloudWatch canary metrics need a lambda-alias target, not ${q.target.type}`);
    if (!q.baseline.ref) throw new Error(`the baseline ${q.baseline.version} has no Lambda version recorded, so its metrics cannot be told apart`);
    const fn = q.target.functionName.replaceAll('{service}', q.service).replaceAll('{environment}', q.environment);
    const resource = `${fn}:${q.target.alias}`;
    const arm = (ref: string) => [
      { Name: 'FunctionName', Value: fn },
      { Name: 'Resource', Value: resource },
      { Name: 'ExecutedVersion', Value: ref },
    ];
    const metric = (id: string, ref: string, name: string, stat: string): MetricDataQuery => ({
      Id: id,
      MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: name, Dimensions: arm(ref) }, Period: PERIOD_SECONDS, Stat: stat },
      ReturnData: true,
    });

    const slowThresholdMs = q.slowThresholdMs ?? Math.max(1, Math.ceil(await this.baselineP99(q, metric)));
    const slowStat = `TC(${slowThresholdMs}:)`;
    const sums = await this.sums(q, [
      metric('canary_requests', q.canary.ref, 'Invocations', 'Sum'),
      metric('canary_errors', q.canary.ref, 'Errors', 'Sum'),
      metric('canary_slow', q.canary.ref, 'Duration', slowStat),
      metric('baseline_requests', q.baseline.ref, 'Invocations', 'Sum'),
      metric('baseline_errors', q.baseline.ref, 'Errors', 'Sum'),
      metric('baseline_slow', q.baseline.ref, 'Duration', slowStat),
    ]);
    const count = (id: string) => Math.round(sums.get(id) ?? 0);
    return {
      canary: { requests: count('canary_requests'), errors: count('canary_errors'), slow: count('canary_slow') },
      baseline: { requests: count('baseline_requests'), errors: count('baseline_errors'), slow: count('baseline_slow') },
      slowThresholdMs,
    };
  }

  /** The baseline's p99 Duration over the window (the highest per-minute p99: a conservative "slow"). */
  private async baselineP99(q: MetricsQuery, metric: (id: string, ref: string, name: string, stat: string) => MetricDataQuery): Promise<number> {
    const values = await this.values(q, [metric('baseline_p99', q.baseline.ref!, 'Duration', 'p99')]);
    return Math.max(0, ...(values.get('baseline_p99') ?? []));
  }

  private async sums(q: MetricsQuery, queries: MetricDataQuery[]): Promise<Map<string, number>> {
    const values = await this.values(q, queries);
    return new Map([...values].map(([id, v]) => [id, v.reduce((a, b) => a + b, 0)]));
  }

  private async values(q: MetricsQuery, queries: MetricDataQuery[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>(queries.map((m) => [m.Id!, []]));
    let token: string | undefined;
    do {
      const res = await call('CloudWatch GetMetricData', () =>
        this.cloudwatch.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(q.since), EndTime: new Date(q.until), ScanBy: 'TimestampAscending', ...(token ? { NextToken: token } : {}) })),
      );
      for (const r of res.MetricDataResults ?? []) out.get(r.Id!)?.push(...(r.Values ?? []));
      token = res.NextToken;
    } while (token);
    return out;
  }
}
