import { type EnvironmentConfig, type ServiceConfig } from '../config.js';
import { describeEnv } from '../config-release.js';
import { targetFor } from '../targets.js';
import { decide, emptyEnvironment } from '../decisions.js';
import { DeployFailed, LockLost, TagflowError, errorMessage } from '../errors.js';
import type { Deps } from '../ports.js';
import type { EnvironmentState, ReleaseRequest, ResolvedArtifact } from '../types.js';
import type { PreTrafficOutput } from './pre-traffic.js';
import type { Promoted } from './promote.js';

export interface DeployInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  service: ServiceConfig;
  environment: EnvironmentConfig;
  artifact: ResolvedArtifact;
  promoted: Promoted;
  /** The pre-traffic step's result: traffic moves to the version it staged and checked. */
  preTraffic?: PreTrafficOutput;
}

export interface DeployOutput {
  version: string;
  previousVersion?: string;
  ref: string;
}

/**
 * Shifts the environment to a version through its deploy target and records it under the lock.
 * With `ref`, the handle the target returned when it served this version before, the target may
 * take the version back from that alone; the build (`artifact`, which may be read on demand) is
 * only needed when it cannot.
 */
export async function shiftTo(
  args: {
    state: EnvironmentState;
    version: string;
    holder: string;
    releaseId: string;
    service: ServiceConfig;
    environment: EnvironmentConfig;
    artifact: ResolvedArtifact | (() => Promise<ResolvedArtifact>);
    location: Promoted;
    ref?: string;
    /** The handle of a version staged (and checked) for this release: traffic moves to it. */
    staged?: string;
  },
  deps: Pick<Deps, 'ledger' | 'targets' | 'clock'>,
): Promise<{ state: EnvironmentState; ref: string; reportedPrevious?: string }> {
  const target = targetFor(args.service, args.environment);
  const names = { service: args.state.service, environment: args.environment.name, version: args.version, target };
  let result;
  try {
    const impl = deps.targets(target);
    result =
      (args.ref && impl.reuse ? await impl.reuse({ ...names, ref: args.ref }) : undefined) ??
      (await impl.deploy({
        ...names,
        location: { bucket: args.location.bucket, prefix: args.location.prefix },
        artifact: typeof args.artifact === 'function' ? await args.artifact() : args.artifact,
        ...(args.staged ? { staged: args.staged } : {}),
      }));
  } catch (err) {
    // Named errors keep their names: DependencyUnavailable is retried by the state machine,
    // ArtifactIntegrityError must not read as a deploy problem.
    if (err instanceof TagflowError) throw err;
    throw new DeployFailed(`deploying ${args.version} to ${args.environment.name} through ${target.type} failed: ${errorMessage(err)}`);
  }
  const state = await deps.ledger.putEnvironment(
    {
      ...args.state,
      version: args.version,
      healthy: false,
      refs: { ...args.state.refs, [args.version]: result.ref },
      canary: null,
      lastReleaseId: args.releaseId,
      updatedAt: deps.clock.now().toISOString(),
    },
    args.holder,
  );
  return { state, ref: result.ref, ...(result.previousVersion ? { reportedPrevious: result.previousVersion } : {}) };
}

/** Step 6c: all traffic to the new version (canary weights come with the canary loop). */
export async function deploy(input: DeployInput, deps: Pick<Deps, 'ledger' | 'targets' | 'clock'>): Promise<DeployOutput> {
  const { release } = input;
  const env = input.environment.name;
  const before = (await deps.ledger.getEnvironment(release.service, env)) ?? emptyEnvironment(release.service, env);
  if (before.lockHolder !== input.executionId) throw new LockLost(`${env} of ${release.service} is not locked by this execution (holder: ${before.lockHolder ?? 'none'}); refusing to deploy`);

  const { ref, reportedPrevious } = await shiftTo(
    { state: before, version: release.version, holder: input.executionId, releaseId: input.releaseId, service: input.service, environment: input.environment, artifact: input.artifact, location: input.promoted, ...stagedOf(input) },
    deps,
  );
  await decide(deps, release, {
    step: 'deploy',
    environment: env,
    verdict: 'done',
    summary: `${env} now serves ${release.version} (was ${before.version ?? 'nothing'})${input.artifact.config ? `: the code of ${input.artifact.config.base} with ${describeEnv(input.artifact.config.env)}` : ''}`,
    evidence: { ref, previousVersion: before.version, targetReportedPrevious: reportedPrevious, previousHealthy: before.healthy },
  });
  return { version: release.version, ...(before.version ? { previousVersion: before.version } : {}), ref };
}

/** The staged handle a deploy or canary start takes over from the pre-traffic step, if it staged one. */
export const stagedOf = (input: Pick<DeployInput, 'preTraffic'>): { staged?: string } => (input.preTraffic?.staged ? { staged: input.preTraffic.staged.ref } : {});
