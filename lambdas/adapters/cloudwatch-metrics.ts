import { GetMetricDataCommand, type CloudWatchClient, type Metric, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { PeriodMetrics, PeriodSeries, servedBy, type Datapoint, type SeriesQuery, type SeriesScope, type SeriesStat } from '../lib/period-metrics.js';
import { fillNames } from '../lib/targets.js';
import { call } from './transient.js';

/**
 * Canary metrics from CloudWatch: Lambda publishes Invocations, Errors and Duration per
 * alias (`Resource` = function:alias) and per `ExecutedVersion`, so each arm of a weighted
 * alias has its own series. Slow requests are counted with the trimmed-count statistic
 * `TC(threshold:)` on Duration (the number of invocations above the threshold), never by
 * comparing per-minute percentiles of arms with different traffic shares. Minutes without a
 * datapoint (no traffic) are absent from CloudWatch's answer, as the shared reader expects;
 * each datapoint comes with its period's start (`Timestamps`, paired with `Values`).
 *
 * Custom metrics are the service's own (config `customMetrics`): their Sum per arm, told apart
 * by the dimension the service puts the Lambda version that served in (`versionDimension`).
 */

const LAMBDA_METRIC = { requests: 'Invocations', errors: 'Errors', duration: 'Duration' } as const;

const statistic = (stat: SeriesStat): string => (stat.kind === 'sum' ? 'Sum' : stat.kind === 'countOver' ? `TC(${Math.ceil(stat.ms)}:)` : `p${stat.p}`);

/** The CloudWatch metric of one series: the alias's, for the Lambda version that served the arm. */
function metricOf(arms: SeriesScope, q: SeriesQuery): Metric {
  if (arms.target.type !== 'lambda-alias') throw new Error(`CloudWatch canary metrics need a lambda-alias target, not ${arms.target.type}`);
  const served = servedBy(arms, q.arm);
  const ref = served.ref;
  if (!ref) throw new Error(`the ${q.arm} ${served.version} has no Lambda version recorded, so its metrics cannot be told apart`);
  const fill = (template: string) => fillNames(template, arms);
  if (typeof q.metric === 'object') {
    const m = q.metric.custom;
    return { Namespace: m.namespace, MetricName: m.metricName, Dimensions: [...Object.entries(m.dimensions).map(([Name, value]) => ({ Name, Value: fill(value) })), { Name: m.versionDimension, Value: ref }] };
  }
  const fn = fill(arms.target.functionName);
  return {
    Namespace: 'AWS/Lambda',
    MetricName: LAMBDA_METRIC[q.metric],
    Dimensions: [{ Name: 'FunctionName', Value: fn }, { Name: 'Resource', Value: `${fn}:${arms.target.alias}` }, { Name: 'ExecutedVersion', Value: ref }],
  };
}

class CloudWatchSeries extends PeriodSeries {
  constructor(private readonly cloudwatch: CloudWatchClient) {
    super();
  }

  async points(arms: SeriesScope, window: { since: string; until: string }, series: SeriesQuery[]): Promise<Map<string, Datapoint[]>> {
    const queries: MetricDataQuery[] = series.map((q) => ({ Id: q.id, MetricStat: { Metric: metricOf(arms, q), Period: q.periodSeconds, Stat: statistic(q.stat) }, ReturnData: true }));
    const out = new Map<string, Datapoint[]>(series.map((q) => [q.id, []]));
    let token: string | undefined;
    do {
      const res = await call('CloudWatch GetMetricData', () =>
        this.cloudwatch.send(
          new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(window.since), EndTime: new Date(window.until), ScanBy: 'TimestampAscending', ...(token ? { NextToken: token } : {}) }),
        ),
      );
      for (const r of res.MetricDataResults ?? []) {
        // A value without its timestamp (never seen) keeps the window's start: it still counts, and dates the series no later than it began.
        out.get(r.Id!)?.push(...(r.Values ?? []).map((value, i) => ({ at: r.Timestamps?.[i]?.getTime() ?? Date.parse(window.since), value })));
      }
      token = res.NextToken;
    } while (token);
    return out;
  }
}

export class CloudWatchMetrics extends PeriodMetrics {
  constructor(cloudwatch: CloudWatchClient) {
    super(new CloudWatchSeries(cloudwatch));
  }
}
