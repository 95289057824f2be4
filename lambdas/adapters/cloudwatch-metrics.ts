import { GetMetricDataCommand, type CloudWatchClient, type Metric, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { CustomMetric } from '../lib/config.js';
import type { ArmCountsResult, ArmMetrics, BaselineLatency, CanaryArms, MetricsQuery, MetricsSource } from '../lib/ports.js';
import { fillNames } from '../lib/targets.js';
import { call } from './transient.js';

/**
 * Canary metrics from CloudWatch: Lambda publishes Invocations, Errors and Duration per
 * alias (`Resource` = function:alias) and per `ExecutedVersion`, so each arm of a weighted
 * alias has its own series. Slow requests are counted with the trimmed-count statistic
 * `TC(threshold:)` on Duration (the number of invocations at or above the threshold; one query
 * per threshold, tail and shift), never by comparing per-minute percentiles of arms with
 * different traffic shares. Minutes without
 * a datapoint (no traffic) are absent from CloudWatch's answer and count as zero.
 *
 * Custom metrics are the service's own (config `customMetrics`): their Sum per arm, told apart
 * by the dimension the service puts the Lambda version that served in (`versionDimension`).
 */

const PERIOD_SECONDS = 60;

/** The Lambda alias's CloudWatch series (with a version ref, that version's part of it), for arms whose baseline has a Lambda version. */
function lambdaSeries(q: CanaryArms) {
  if (q.target.type !== 'lambda-alias') throw new Error(`CloudWatch canary metrics need a lambda-alias target, not ${q.target.type}`);
  if (!q.baseline.ref) throw new Error(`the baseline ${q.baseline.version} has no Lambda version recorded, so its metrics cannot be told apart`);
  const baselineRef = q.baseline.ref;
  const fill = (template: string) => fillNames(template, q);
  const fn = fill(q.target.functionName);
  const resource = `${fn}:${q.target.alias}`;
  return {
    baselineRef,
    /** Sum of a custom metric for the requests one Lambda version served. */
    custom: (id: string, m: CustomMetric, ref: string): MetricDataQuery =>
      metricQuery(id, {
        Namespace: m.namespace,
        MetricName: m.metricName,
        Dimensions: [...Object.entries(m.dimensions).map(([Name, value]) => ({ Name, Value: fill(value) })), { Name: m.versionDimension, Value: ref }],
      }, 'Sum', PERIOD_SECONDS),
    query: (id: string, name: string, stat: string, period: number, ref?: string): MetricDataQuery =>
      metricQuery(id, {
        Namespace: 'AWS/Lambda',
        MetricName: name,
        Dimensions: [{ Name: 'FunctionName', Value: fn }, { Name: 'Resource', Value: resource }, ...(ref ? [{ Name: 'ExecutedVersion', Value: ref }] : [])],
      }, stat, period),
  };
}

const metricQuery = (id: string, metric: Metric, stat: string, period: number): MetricDataQuery => ({ Id: id, MetricStat: { Metric: metric, Period: period, Stat: stat }, ReturnData: true });

export class CloudWatchMetrics implements MetricsSource {
  constructor(private readonly cloudwatch: CloudWatchClient) {}

  async armCounts(q: MetricsQuery): Promise<ArmCountsResult> {
    const series = lambdaSeries(q);
    const t = q.thresholds;
    const custom = q.custom ?? [];
    const arm = (name: 'canary' | 'baseline', ref: string): MetricDataQuery[] => [
      series.query(`${name}_requests`, 'Invocations', 'Sum', PERIOD_SECONDS, ref),
      series.query(`${name}_errors`, 'Errors', 'Sum', PERIOD_SECONDS, ref),
      ...(t
        ? [
            series.query(`${name}_slow`, 'Duration', `TC(${Math.ceil(t.tailMs)}:)`, PERIOD_SECONDS, ref),
            series.query(`${name}_slowshift`, 'Duration', `TC(${Math.ceil(t.shiftMs)}:)`, PERIOD_SECONDS, ref),
          ]
        : []),
      // Query ids allow only letters, digits and underscores: custom metrics go by their index.
      ...custom.map((m, i) => series.custom(`${name}_custom${i}`, m, ref)),
    ];
    const values = await this.values(q, [...arm('canary', q.canary.ref), ...arm('baseline', series.baselineRef)]);
    const sums = new Map([...values].map(([id, v]) => [id, v.reduce((a, b) => a + b, 0)]));
    const counts = (name: string): ArmMetrics => {
      const c = (suffix: string) => Math.round(sums.get(`${name}_${suffix}`) ?? 0);
      const counts: ArmMetrics = { requests: c('requests'), errors: c('errors'), slow: c('slow'), slowShift: c('slowshift') };
      return custom.length ? { ...counts, custom: Object.fromEntries(custom.map((m, i) => [m.name, c(`custom${i}`)])) } : counts;
    };
    const unpublished = custom.filter((_, i) => !values.get(`canary_custom${i}`)?.length && !values.get(`baseline_custom${i}`)?.length).map((m) => m.name);
    return { canary: counts('canary'), baseline: counts('baseline'), ...(unpublished.length ? { unpublished } : {}) };
  }

  /**
   * One period spanning the whole window, so CloudWatch computes the percentiles over all of
   * its requests (percentiles of minutes cannot be combined).
   */
  async baselineLatency(q: CanaryArms & { since: string; until: string }): Promise<BaselineLatency> {
    const series = lambdaSeries(q);
    const seconds = Math.max(PERIOD_SECONDS, Math.ceil((Date.parse(q.until) - Date.parse(q.since)) / 1000 / PERIOD_SECONDS) * PERIOD_SECONDS);
    const values = await this.values(q, [
      series.query('requests', 'Invocations', 'Sum', seconds, series.baselineRef),
      series.query('p90', 'Duration', 'p90', seconds, series.baselineRef),
      series.query('p99', 'Duration', 'p99', seconds, series.baselineRef),
    ]);
    // A window that straddles a period boundary comes back as two periods: the higher
    // percentile of the two is the conservative (less trigger-happy) threshold.
    const max = (id: string) => Math.max(0, ...(values.get(id) ?? []));
    return { requests: Math.round((values.get('requests') ?? []).reduce((x, y) => x + y, 0)), p90Ms: max('p90'), p99Ms: max('p99') };
  }

  private async values(q: { since: string; until: string }, queries: MetricDataQuery[]): Promise<Map<string, number[]>> {
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
