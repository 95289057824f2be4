import { targetFor } from '../targets.js';
import { decide, emptyEnvironment } from '../decisions.js';
import { DeployFailed, LockLost, TagflowError, errorMessage } from '../errors.js';
import type { Deps, StagedVersion } from '../ports.js';
import { runSmokeChecks, type CheckResult } from '../smoke.js';
import type { DeployInput } from './deploy.js';

/**
 * Pre-traffic checks (CodeDeploy's BeforeAllowTraffic, declaratively): the new version is
 * installed beside the live one taking no traffic, `environments[].preTraffic` checks call it
 * directly, and only then does the deploy or canary start move traffic to it. A failure moves
 * nothing, so the release stops without a rollback.
 */

/** Named literally: the state machine routes it past the rollback (nothing moved). */
export class PreTrafficCheckFailed extends TagflowError {
  override readonly name = 'PreTrafficCheckFailed';
}

/** What the deploy and canary start take over: the staged version's handle (absent: no checks ran, nothing was staged). */
export interface PreTrafficOutput {
  staged?: StagedVersion;
  checks: CheckResult[];
}

const START_CHECK = 'start';

/** Stages the version and runs the environment's preTraffic checks against it. */
export async function preTraffic(input: DeployInput, deps: Pick<Deps, 'ledger' | 'targets' | 'http' | 'invoker' | 'clock'>): Promise<PreTrafficOutput> {
  const { release, environment } = input;
  const env = environment.name;
  const checks = environment.preTraffic ?? [];
  if (checks.length === 0) return { checks: [] };
  const state = (await deps.ledger.getEnvironment(release.service, env)) ?? emptyEnvironment(release.service, env);
  if (state.lockHolder !== input.executionId) throw new LockLost(`${env} of ${release.service} is not locked by this execution (holder: ${state.lockHolder ?? 'none'}); refusing to stage`);

  const target = targetFor(input.service, environment);
  const adapter = deps.targets(target);
  if (!adapter.stage) throw new DeployFailed(`environment ${env} has preTraffic checks, but target ${target.type} cannot run a version without giving it traffic; remove preTraffic or use a local or lambda-alias target`);
  const req = { service: release.service, environment: env, version: release.version, target, location: { bucket: input.promoted.bucket, prefix: input.promoted.prefix }, artifact: input.artifact };

  let staged: StagedVersion;
  try {
    staged = await adapter.stage(req);
  } catch (err) {
    if (err instanceof TagflowError) throw err;
    // The version itself could not start: the first check, failed before any other could run.
    return fail(input, deps, [{ name: START_CHECK, passed: false, attempts: 1, reason: `${release.version} did not start: ${errorMessage(err)}` }]);
  }

  const results = await runSmokeChecks(checks, {
    service: release.service,
    environment: env,
    version: release.version,
    ...(staged.endpoint ? { endpoint: staged.endpoint } : {}),
    ...(staged.qualifier ? { qualifier: staged.qualifier } : {}),
    target,
    http: deps.http,
    ...(deps.invoker ? { invoker: deps.invoker } : {}),
    clock: deps.clock,
  });
  if (results.some((c) => !c.passed)) {
    await adapter.discard?.({ service: release.service, environment: env, version: release.version, target, ref: staged.ref });
    return fail(input, deps, results, staged);
  }
  await decide(deps, release, {
    step: 'pre-traffic',
    environment: env,
    verdict: 'passed',
    summary: `${results.length} pre-traffic checks passed on ${release.version} in ${env} before it took any traffic`,
    evidence: { checks: results, staged },
  });
  return { staged, checks: results };
}

async function fail(input: DeployInput, deps: Pick<Deps, 'ledger' | 'clock'>, results: CheckResult[], staged?: StagedVersion): Promise<never> {
  const env = input.environment.name;
  const failed = results.filter((c) => !c.passed);
  const summary = `pre-traffic checks failed in ${env} on ${input.release.version}, which took no traffic: ${failed.map((c) => `${c.name}: ${c.reason} (after ${c.attempts} attempts)`).join('; ')}`;
  await decide(deps, input.release, { step: 'pre-traffic', environment: env, verdict: 'failed', summary, evidence: { checks: results, ...(staged ? { staged } : {}) } });
  throw new PreTrafficCheckFailed(summary);
}
