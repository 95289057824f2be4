import type { PipelineConfig, TargetConfig } from './config.js';
import type { Ledger } from './ports.js';
import { targetFor } from './targets.js';
import type { EnvironmentState } from './types.js';

/**
 * Drift: what actually serves in an environment against what the ledger says serves there.
 * Prod must match what the pipeline released; a version moved behind its back (a console click,
 * a script, a half-applied change) is named with both sides, never silently adopted.
 */

/** What a target says it serves, in the target's own handles (a Lambda version number, a local version). */
export interface Serving {
  /** The handle all traffic (or the baseline's share) goes to; undefined when nothing serves. */
  ref?: string;
  /** A second handle with a share of the traffic (a weighted alias), in percent. */
  split?: { ref: string; weight: number };
}

/** Reads what a target serves; undefined when it cannot tell (no such function, a target it cannot read). */
export interface ServingReader {
  serving(service: string, environment: string, target: TargetConfig): Promise<Serving | undefined>;
}

export interface DriftFinding {
  service: string;
  environment: string;
  /** What the ledger says, in release versions. */
  expected: string;
  /** What serves, named by release version where the ledger knows the handle. */
  actual: string;
  differences: string[];
}

export interface DriftReport {
  checked: number;
  drifted: DriftFinding[];
  /** Environments not compared, and why (a release holds the lock; the target cannot be read). */
  skipped: { service: string; environment: string; why: string }[];
}

/** A handle named as a person knows it: the release version the ledger recorded for it, or the raw handle. */
function nameOf(state: EnvironmentState | undefined, ref: string): string {
  const version = Object.entries(state?.refs ?? {}).find(([, r]) => r === ref)?.[0];
  if (!version) return `${ref}, which no release recorded here`;
  return version === ref ? version : `${version} (${ref})`;
}

function describeExpected(state: EnvironmentState | undefined): string {
  if (!state?.version) return 'nothing';
  const base = nameOf(state, state.refs[state.version] ?? state.version);
  return state.canary ? `${base} with canary ${nameOf(state, state.refs[state.canary.version] ?? state.canary.version)} at ${state.canary.weight}%` : base;
}

function describeActual(state: EnvironmentState | undefined, serving: Serving): string {
  if (serving.ref === undefined) return 'nothing';
  const base = nameOf(state, serving.ref);
  return serving.split ? `${base} with ${nameOf(state, serving.split.ref)} at ${serving.split.weight}%` : base;
}

/** The differences between the ledger's state of one environment and what serves; empty when they agree. */
export function differences(state: EnvironmentState | undefined, serving: Serving): string[] {
  const out: string[] = [];
  const expectedRef = state?.version ? state.refs[state.version] : undefined;
  if (expectedRef !== serving.ref) out.push(`serves ${serving.ref === undefined ? 'nothing' : nameOf(state, serving.ref)} where the ledger has ${describeExpected(state).replace(/ with canary .*/, '')}`);
  const canary = state?.canary;
  const canaryRef = canary ? state.refs[canary.version] : undefined;
  if (canary && (!serving.split || serving.split.ref !== canaryRef)) out.push(`the canary ${canary.version} at ${canary.weight}% gets no traffic${serving.split ? `; ${nameOf(state, serving.split.ref)} gets ${serving.split.weight}% instead` : ''}`);
  else if (canary && serving.split && Math.abs(serving.split.weight - canary.weight) > 0.5) out.push(`the canary ${canary.version} gets ${serving.split.weight}% where the ledger has ${canary.weight}%`);
  else if (!canary && serving.split) out.push(`${nameOf(state, serving.split.ref)} gets ${serving.split.weight}% of the traffic, and the ledger has no canary there`);
  return out;
}

/**
 * Every service and environment of the config compared with what serves. An environment whose
 * lock a release holds now is skipped (its target moves before the ledger records it), as is one
 * whose target cannot be read; both are reported, never counted as in agreement.
 */
export async function detectDrift(config: PipelineConfig, deps: { ledger: Pick<Ledger, 'getEnvironment'>; reader: (target: TargetConfig) => ServingReader; now: Date }): Promise<DriftReport> {
  const report: DriftReport = { checked: 0, drifted: [], skipped: [] };
  for (const [service, svc] of Object.entries(config.services)) {
    for (const env of svc.environments) {
      const state = await deps.ledger.getEnvironment(service, env.name);
      if (state?.lockHolder && (state.lockExpiresAt ?? 0) > deps.now.getTime()) {
        report.skipped.push({ service, environment: env.name, why: `a release holds its lock (${state.lockHolder.split(':').pop()}) until ${new Date(state.lockExpiresAt!).toISOString()}` });
        continue;
      }
      const target = targetFor(svc, env);
      let serving: Serving | undefined;
      try {
        serving = await deps.reader(target).serving(service, env.name, target);
      } catch (err) {
        report.skipped.push({ service, environment: env.name, why: `its ${target.type} target could not be read: ${(err as Error).message}` });
        continue;
      }
      if (!serving) {
        report.skipped.push({ service, environment: env.name, why: `its ${target.type} target cannot tell what serves` });
        continue;
      }
      report.checked++;
      const found = differences(state, serving);
      if (found.length) report.drifted.push({ service, environment: env.name, expected: describeExpected(state), actual: describeActual(state, serving), differences: found });
    }
  }
  return report;
}
