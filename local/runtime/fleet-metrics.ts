import { PERIOD_SECONDS, PeriodMetrics, PeriodSeries, servedBy, type Arm, type Datapoint, type SeriesQuery, type SeriesScope } from '../../lambdas/lib/period-metrics.js';
import { nearestRank } from '../../lambdas/lib/percentile.js';
import type { LocalFleet, RequestSample } from './fleet.js';

/**
 * The local metrics source: the fleet's real per-version requests, bucketed by period from
 * the window's first minute as CloudWatch buckets Lambda's metrics. A period in which a
 * version served nothing has no datapoint; a custom metric has one where a request of that
 * version counted it (even 0), as a service publishing it would.
 */
export class FleetSeries extends PeriodSeries {
  constructor(private readonly fleet: LocalFleet) {
    super();
  }

  async points(scope: SeriesScope, window: { since: string; until: string }, queries: SeriesQuery[]): Promise<Map<string, Datapoint[]>> {
    const since = Date.parse(window.since);
    const start = since - (since % (PERIOD_SECONDS * 1000));
    const samples = this.fleet.samples(scope.service, scope.environment, since, Date.parse(window.until));
    // One arm's requests by period (its start and requests), oldest first: the same for every series of that arm and period length.
    const bucketed = new Map<string, [number, RequestSample[]][]>();
    const periodsOf = (arm: Arm, periodSeconds: number): [number, RequestSample[]][] => {
      const key = `${arm}/${periodSeconds}`;
      let periods = bucketed.get(key);
      if (!periods) {
        const version = servedBy(scope, arm).version;
        const byIndex = new Map<number, RequestSample[]>();
        for (const s of samples) {
          if (s.version !== version) continue;
          const k = Math.floor((s.at - start) / (periodSeconds * 1000));
          const period = byIndex.get(k);
          if (period) period.push(s);
          else byIndex.set(k, [s]);
        }
        periods = [...byIndex].sort((a, b) => a[0] - b[0]).map(([k, served]) => [start + k * periodSeconds * 1000, served]);
        bucketed.set(key, periods);
      }
      return periods;
    };
    return new Map(queries.map((q) => [q.id, periodsOf(q.arm, q.periodSeconds).flatMap(([at, served]) => datapoint(q, served).map((value) => ({ at, value })))]));
  }
}

/** One period's value of a series, or none when the period has nothing to report. */
function datapoint(q: SeriesQuery, served: RequestSample[]): number[] {
  if (typeof q.metric === 'object') {
    const name = q.metric.custom.name;
    const counted = served.filter((s) => s.custom?.[name] !== undefined);
    return counted.length ? [counted.reduce((total, s) => total + s.custom![name]!, 0)] : [];
  }
  if (q.metric === 'requests') return [served.length];
  if (q.metric === 'errors') return [served.filter((s) => s.status >= 500).length];
  const stat = q.stat;
  if (stat.kind === 'countOver') return [served.filter((s) => s.latencyMs > stat.ms).length];
  if (stat.kind === 'percentile') return [nearestRank(served.map((s) => s.latencyMs).sort((a, b) => a - b), stat.p / 100)];
  return [served.reduce((total, s) => total + s.latencyMs, 0)];
}

export class FleetMetrics extends PeriodMetrics {
  constructor(fleet: LocalFleet) {
    super(new FleetSeries(fleet));
  }
}
