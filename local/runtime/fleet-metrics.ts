import { nearestRank } from '../../lambdas/lib/percentile.js';
import type { ArmCountsResult, ArmMetrics, BaselineLatency, CanaryArms, MetricsQuery, MetricsSource } from '../../lambdas/lib/ports.js';
import type { LocalFleet, RequestSample } from './fleet.js';

/** The local metrics source: the fleet's real per-version request counts and latencies. */
export class FleetMetrics implements MetricsSource {
  constructor(private readonly fleet: LocalFleet) {}

  async armCounts(q: MetricsQuery): Promise<ArmCountsResult> {
    const samples = this.fleet.samples(q.service, q.environment, Date.parse(q.since), Date.parse(q.until));
    const of = (version: string) => count(samples.filter((s) => s.version === version), q);
    // Counted at all, even as 0, by either version: what a datapoint is in CloudWatch.
    const unpublished = (q.custom ?? []).filter((m) => !samples.some((s) => s.custom?.[m.name] !== undefined)).map((m) => m.name);
    return { canary: of(q.canary.version), baseline: of(q.baseline.version), ...(unpublished.length ? { unpublished } : {}) };
  }

  async baselineLatency(q: CanaryArms & { since: string; until: string }): Promise<BaselineLatency> {
    const samples = this.fleet.samples(q.service, q.environment, Date.parse(q.since), Date.parse(q.until));
    const latencies = samples.filter((s) => s.version === q.baseline.version).map((s) => s.latencyMs).sort((a, b) => a - b);
    if (latencies.length === 0) return { requests: 0, p90Ms: 0, p99Ms: 0 };
    return { requests: latencies.length, p90Ms: nearestRank(latencies, 0.9), p99Ms: nearestRank(latencies, 0.99) };
  }
}

function count(samples: RequestSample[], q: Pick<MetricsQuery, 'thresholds' | 'custom'>): ArmMetrics {
  const t = q.thresholds;
  const counts: ArmMetrics = {
    requests: samples.length,
    errors: samples.filter((s) => s.status >= 500).length,
    slow: t ? samples.filter((s) => s.latencyMs > t.tailMs).length : 0,
    slowShift: t ? samples.filter((s) => s.latencyMs > t.shiftMs).length : 0,
  };
  if (!q.custom?.length) return counts;
  const sum = (name: string) => samples.reduce((total, s) => total + (s.custom?.[name] ?? 0), 0);
  return { ...counts, custom: Object.fromEntries(q.custom.map((m) => [m.name, sum(m.name)])) };
}
