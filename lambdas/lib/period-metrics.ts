import type { CustomMetric } from './config.js';
import type { ArmCountsResult, ArmMetrics, BaselineLatency, CanaryArms, LiveTraffic, LiveTrafficQuery, MetricsQuery, MetricsSource } from './ports.js';

/**
 * The canary's metrics in the shape CloudWatch keeps them: per series, one value per period
 * (a minute), and no datapoint at all for a period in which the series had nothing to count.
 * Both metrics sources answer in this shape, CloudWatch itself (GetMetricData) and the local
 * fleet, which buckets its requests by the minute the same way; what the judge reads (counts
 * since the step began, the baseline's latency percentiles) is computed from it here, once,
 * so the local runtime exercises the arithmetic the deployed judge runs.
 */

export type Arm = 'canary' | 'baseline';

/** How one period's values are summarised. `countOver`: how many requests took longer than `ms` (CloudWatch's trimmed count `TC(ms:)`). */
export type SeriesStat = { kind: 'sum' } | { kind: 'countOver'; ms: number } | { kind: 'percentile'; p: number };

/** One series: what is measured of the requests one arm's version served, summarised per period. */
export interface SeriesQuery {
  /** Letters, digits and underscores (CloudWatch's rule for query ids). */
  id: string;
  arm: Arm;
  metric: 'requests' | 'errors' | 'duration' | { custom: CustomMetric };
  stat: SeriesStat;
  periodSeconds: number;
}

/**
 * What series are read of: the environment's target and the version each arm names (a canary's
 * arms; the live version alone is read as the baseline, which it is to the next canary).
 */
export type SeriesScope = Pick<CanaryArms, 'service' | 'environment' | 'target'> & { [A in Arm]?: { version: string; ref?: string | undefined } };

/** One period's value and when the period began (ms since the epoch). */
export interface Datapoint {
  at: number;
  value: number;
}

type Window = { since: string; until: string };

/** Reads series over a window: per query id, the periods that had a datapoint, oldest first. */
export interface SeriesReader {
  /** Each period with its start. */
  points(scope: SeriesScope, window: Window, queries: SeriesQuery[]): Promise<Map<string, Datapoint[]>>;
  /** The values alone, what sums and percentiles need. */
  read(scope: SeriesScope, window: Window, queries: SeriesQuery[]): Promise<Map<string, number[]>>;
}

/** A reader that answers `points`; `read` follows from it. */
export abstract class PeriodSeries implements SeriesReader {
  abstract points(scope: SeriesScope, window: Window, queries: SeriesQuery[]): Promise<Map<string, Datapoint[]>>;

  async read(scope: SeriesScope, window: Window, queries: SeriesQuery[]): Promise<Map<string, number[]>> {
    return new Map([...(await this.points(scope, window, queries))].map(([id, points]) => [id, points.map((p) => p.value)]));
  }
}

export const PERIOD_SECONDS = 60;

const sum = (values: number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);

/** The version an arm of the scope names, or a programming error: a query for an arm the scope lacks. */
export function servedBy(scope: SeriesScope, arm: Arm): { version: string; ref?: string | undefined } {
  const served = scope[arm];
  if (!served) throw new Error(`a ${arm} series was asked for without a ${arm} version`);
  return served;
}

/** The judge's metrics source over any series reader. */
export class PeriodMetrics implements MetricsSource {
  constructor(private readonly series: SeriesReader) {}

  async armCounts(q: MetricsQuery): Promise<ArmCountsResult> {
    const t = q.thresholds;
    const custom = q.custom ?? [];
    const arm = (name: Arm): SeriesQuery[] => {
      const series = (suffix: string, metric: SeriesQuery['metric'], stat: SeriesStat): SeriesQuery => ({ id: `${name}_${suffix}`, arm: name, metric, stat, periodSeconds: PERIOD_SECONDS });
      return [
        series('requests', 'requests', { kind: 'sum' }),
        series('errors', 'errors', { kind: 'sum' }),
        ...(t ? [series('slow', 'duration', { kind: 'countOver', ms: t.tailMs }), series('slowshift', 'duration', { kind: 'countOver', ms: t.shiftMs })] : []),
        // Custom metrics go by their index: their names need not be valid query ids.
        ...custom.map((m, i) => series(`custom${i}`, { custom: m }, { kind: 'sum' })),
      ];
    };
    const values = await this.series.read(q, q, [...arm('canary'), ...arm('baseline')]);
    const counts = (name: Arm): ArmMetrics => {
      // Periods without a datapoint count as zero.
      const c = (suffix: string) => Math.round(sum(values.get(`${name}_${suffix}`)));
      const counts: ArmMetrics = { requests: c('requests'), errors: c('errors'), slow: c('slow'), slowShift: c('slowshift') };
      return custom.length ? { ...counts, custom: Object.fromEntries(custom.map((m, i) => [m.name, c(`custom${i}`)])) } : counts;
    };
    // No datapoint from either version: a misspelt name or dimension reads as zero events.
    const unpublished = custom.filter((_, i) => !values.get(`canary_custom${i}`)?.length && !values.get(`baseline_custom${i}`)?.length).map((m) => m.name);
    return { canary: counts('canary'), baseline: counts('baseline'), ...(unpublished.length ? { unpublished } : {}) };
  }

  /**
   * One period spanning the whole window, so the percentiles are over all of its requests
   * (percentiles of minutes cannot be combined).
   */
  async baselineLatency(q: CanaryArms & { since: string; until: string }): Promise<BaselineLatency> {
    const periodSeconds = Math.max(PERIOD_SECONDS, Math.ceil((Date.parse(q.until) - Date.parse(q.since)) / 1000 / PERIOD_SECONDS) * PERIOD_SECONDS);
    const series = (id: string, metric: SeriesQuery['metric'], stat: SeriesStat): SeriesQuery => ({ id, arm: 'baseline', metric, stat, periodSeconds });
    const values = await this.series.read(q, q, [
      series('requests', 'requests', { kind: 'sum' }),
      series('p90', 'duration', { kind: 'percentile', p: 90 }),
      series('p99', 'duration', { kind: 'percentile', p: 99 }),
    ]);
    // A window that straddles a period boundary comes back as two periods: the higher
    // percentile of the two is the conservative (less trigger-happy) threshold.
    const max = (id: string) => Math.max(0, ...(values.get(id) ?? []));
    return { requests: Math.round(sum(values.get('requests'))), p90Ms: max('p90'), p99Ms: max('p99') };
  }

  /**
   * Per-minute sums of the live version's requests and errors (the version read as the
   * baseline arm). The minutes run from the start of the first minute with a datapoint to
   * `until` (at least one): later minutes without one had no requests, earlier ones are taken
   * as before the version went live.
   */
  async liveTraffic(q: LiveTrafficQuery): Promise<LiveTraffic> {
    const series = (id: string, metric: 'requests' | 'errors'): SeriesQuery => ({ id, arm: 'baseline', metric, stat: { kind: 'sum' }, periodSeconds: PERIOD_SECONDS });
    const scope: SeriesScope = { service: q.service, environment: q.environment, target: q.target, baseline: q.version };
    const points = await this.series.points(scope, q, [series('requests', 'requests'), series('errors', 'errors')]);
    const requests = points.get('requests') ?? [];
    const total = (id: string) => Math.round(sum(points.get(id)?.map((p) => p.value)));
    // The earliest minute either series has (an error is a request): the CloudWatch answer is oldest first, but need not be sorted across pages.
    const first = Math.min(...requests.map((p) => p.at), ...(points.get('errors') ?? []).map((p) => p.at));
    const minutes = Number.isFinite(first) ? Math.max(1, (Date.parse(q.until) - first) / 60_000) : 0;
    return { requests: total('requests'), errors: total('errors'), minutes };
  }
}
