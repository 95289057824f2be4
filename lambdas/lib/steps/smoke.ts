import { type EnvironmentConfig, type ServiceConfig } from '../config.js';
import { targetFor } from '../targets.js';
import { decide } from '../decisions.js';
import { SmokeTestFailed } from '../errors.js';
import type { Deps } from '../ports.js';
import { runSmokeChecks, type CheckResult } from '../smoke.js';
import type { ReleaseRequest } from '../types.js';

export interface SmokeInput {
  release: ReleaseRequest;
  service: ServiceConfig;
  environment: EnvironmentConfig;
}

/** Runs an environment's smoke checks against whatever it serves now. */
export async function checkEnvironment(
  service: ServiceConfig,
  environment: EnvironmentConfig,
  release: Pick<ReleaseRequest, 'service' | 'version'>,
  deps: Pick<Deps, 'targets' | 'http' | 'invoker' | 'clock'>,
): Promise<CheckResult[]> {
  const target = targetFor(service, environment);
  const endpoint = environment.endpoint ?? (await deps.targets(target).endpoint?.(release.service, environment.name));
  return runSmokeChecks(environment.smoke, {
    service: release.service,
    environment: environment.name,
    version: release.version,
    ...(endpoint ? { endpoint } : {}),
    target,
    http: deps.http,
    ...(deps.invoker ? { invoker: deps.invoker } : {}),
    clock: deps.clock,
  });
}

/** Step 6d: smoke tests; a failure is `SmokeTestFailed`, which rolls the environment back. */
export async function smoke(input: SmokeInput, deps: Pick<Deps, 'targets' | 'http' | 'invoker' | 'clock' | 'ledger'>): Promise<{ checks: CheckResult[] }> {
  const env = input.environment.name;
  const checks = await checkEnvironment(input.service, input.environment, input.release, deps);
  const failed = checks.filter((c) => !c.passed);
  if (failed.length > 0) {
    const summary = `smoke tests failed in ${env} on ${input.release.version}: ${failed.map((c) => `${c.name}: ${c.reason} (after ${c.attempts} attempts)`).join('; ')}`;
    await decide(deps, input.release, { step: 'smoke', environment: env, verdict: 'failed', summary, evidence: { checks } });
    throw new SmokeTestFailed(summary);
  }
  const summary = checks.length ? `${checks.length} smoke checks passed in ${env}` : `no smoke checks configured for ${env}`;
  await decide(deps, input.release, { step: 'smoke', environment: env, verdict: checks.length ? 'passed' : 'skipped', summary, evidence: { checks } });
  return { checks };
}
