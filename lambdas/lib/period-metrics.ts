import type { CustomMetric } from './config.js';
import type { ArmCountsResult, ArmMetrics, BaselineLatency, CanaryArms, MetricsQuery, MetricsSource } from './ports.js';

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

/** Reads series over a window: per query id, the values of the periods that had a datapoint, oldest first. */
export interface SeriesReader {
  read(arms: CanaryArms, window: { since: string; until: string }, queries: SeriesQuery[]): Promise<Map<string, number[]>>;
}

export const PERIOD_SECONDS = 60;

const sum = (values: number[] | undefined) => (values ?? []).reduce((a, b) => a + b, 0);

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
}
