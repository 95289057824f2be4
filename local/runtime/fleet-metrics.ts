import type { ArmMetrics, MetricsQuery, MetricsSource } from '../../lambdas/lib/ports.js';
import type { LocalFleet, RequestSample } from './fleet.js';

/** The local metrics source: the fleet's real per-version request counts and latencies. */
export class FleetMetrics implements MetricsSource {
  constructor(private readonly fleet: LocalFleet) {}

  async armCounts(q: MetricsQuery): Promise<{ canary: ArmMetrics; baseline: ArmMetrics; slowThresholdMs: number }> {
    const samples = this.fleet.samples(q.service, q.environment, Date.parse(q.since), Date.parse(q.until));
    const baseline = samples.filter((s) => s.version === q.baseline.version);
    const canary = samples.filter((s) => s.version === q.canary.version);
    const slowThresholdMs = q.slowThresholdMs ?? Math.max(1, percentile(baseline.map((s) => s.latencyMs), 0.99));
    return { canary: count(canary, slowThresholdMs), baseline: count(baseline, slowThresholdMs), slowThresholdMs };
  }
}

function count(samples: RequestSample[], slowMs: number): ArmMetrics {
  return {
    requests: samples.length,
    errors: samples.filter((s) => s.status >= 500).length,
    slow: samples.filter((s) => s.latencyMs > slowMs).length,
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
