import type { PipelineConfig, TargetConfig } from '../config.js';
import { detectDrift, type DriftFinding, type DriftReport, type ServingReader } from '../drift.js';
import type { Deps, Ledger } from '../ports.js';
import type { DriftMark } from '../types.js';

/** The detail-type of the event a newly found drift puts on the pipeline bus (source `tagflow`); written out where it is put too, where the grant test reads it. */
export const DRIFT_DETECTED = 'Drift Detected';

/** What `Drift Detected` carries: both sides, as the ledger and the target name them. */
export interface DriftDetectedDetail {
  service: string;
  environment: string;
  expected: string;
  actual: string;
  differences: string[];
  detectedAt: string;
}

export type RecordDriftDeps = Pick<Deps, 'events' | 'clock' | 'log'> & { ledger: Pick<Ledger, 'getEnvironment' | 'markDrift'> };
export type DetectDriftDeps = RecordDriftDeps & Pick<Deps, 'config'> & { serving: (target: TargetConfig) => ServingReader };

export interface DriftRecord {
  checked: number;
  /** Drifts marked (and announced) by this check. */
  marked: { service: string; environment: string }[];
  /** Drifts the ledger already had marked (or acknowledged) as they are now: nothing written, nothing announced. */
  known: { service: string; environment: string }[];
  /** Marks removed: what serves agrees with the ledger again. */
  cleared: { service: string; environment: string }[];
  /** Not compared or not written, and why. */
  skipped: { service: string; environment: string; why: string }[];
}

const sameDrift = (mark: DriftMark, f: DriftFinding) =>
  mark.expected === f.expected && mark.actual === f.actual && mark.differences.length === f.differences.length && mark.differences.every((d, i) => d === f.differences[i]);

/**
 * Writes what a drift check found to the ledger and the bus: a new or changed drift is marked
 * on its environment and announced once (`Drift Detected`); the same drift found again changes
 * nothing; an environment that agrees again loses its mark. The event goes before the mark, so
 * a failed put is retried by the next check rather than lost behind a mark that says "known".
 * Marks are conditional writes without the lock (`Ledger.markDrift`): one a release overtook
 * is left for the next check, which sees the release's state.
 */
export async function recordDrift(config: PipelineConfig, report: DriftReport, deps: RecordDriftDeps): Promise<DriftRecord> {
  const now = deps.clock.now();
  const out: DriftRecord = { checked: report.checked, marked: [], known: [], cleared: [], skipped: [...report.skipped] };
  const drifted = new Map(report.drifted.map((f) => [`${f.service}\u0000${f.environment}`, f]));
  const skipped = new Set(report.skipped.map((s) => `${s.service}\u0000${s.environment}`));
  for (const [service, svc] of Object.entries(config.services)) {
    for (const { name: environment } of svc.environments) {
      const key = `${service}\u0000${environment}`;
      if (skipped.has(key)) continue;
      const finding = drifted.get(key);
      const state = await deps.ledger.getEnvironment(service, environment);
      if (!finding) {
        if (!state?.drift) continue;
        if (await deps.ledger.markDrift(service, environment, null, state.revision, now.getTime())) {
          out.cleared.push({ service, environment });
          deps.log.info('drift cleared: what serves agrees with the ledger again', { service, environment, was: state.drift });
        } else out.skipped.push({ service, environment, why: 'its state changed while it was checked; the next check looks again' });
        continue;
      }
      if (state?.drift && sameDrift(state.drift, finding)) {
        out.known.push({ service, environment });
        continue;
      }
      const detail: DriftDetectedDetail = { service, environment, expected: finding.expected, actual: finding.actual, differences: finding.differences, detectedAt: now.toISOString() };
      await deps.events.put([{ Source: 'tagflow', DetailType: 'Drift Detected', Detail: detail }]);
      const mark: DriftMark = { detectedAt: detail.detectedAt, expected: finding.expected, actual: finding.actual, differences: finding.differences };
      if (await deps.ledger.markDrift(service, environment, mark, state?.revision ?? 0, now.getTime())) {
        out.marked.push({ service, environment });
        deps.log.warn('drift detected', { ...detail });
      } else out.skipped.push({ service, environment, why: 'announced, but a release took its lock (or wrote) before it was marked; the next check looks again' });
    }
  }
  return out;
}

/** Input of the scheduled check (an EventBridge `Scheduled Event`, whose fields it ignores); `service` narrows it to one service. */
export interface DetectDriftInput {
  service?: string;
}

/** The scheduled drift check: every service and environment of the deployed config compared with what serves, and recorded. */
export async function detectDriftStep(input: DetectDriftInput | undefined, deps: DetectDriftDeps): Promise<DriftRecord> {
  const full = await deps.config();
  const only = typeof input?.service === 'string' ? input.service : undefined;
  const config = only ? { ...full, services: Object.fromEntries(Object.entries(full.services).filter(([name]) => name === only)) } : full;
  const report = await detectDrift(config, { ledger: deps.ledger, reader: deps.serving, now: deps.clock.now() });
  return recordDrift(config, report, deps);
}
