import type { EnvironmentConfig, ServiceConfig } from '../config.js';
import { decide, emptyEnvironment, withGood } from '../decisions.js';
import { ArtifactNotFound, LockLost, RollbackFailed } from '../errors.js';
import { describeFailure, type StepFailure } from '../failure.js';
import { environmentManifestKey, environmentPrefix } from '../keys.js';
import { parseManifest, resolvedFrom } from '../manifest.js';
import { readJson } from '../store-json.js';
import type { Deps, ObjectReader } from '../ports.js';
import type { ResolvedArtifact } from '../types.js';
import { shiftTo } from './deploy.js';
import { checkEnvironment } from './smoke.js';

/** What a restore touches: the ledger, the promoted copies, the deploy target and the smoke checks. */
export type RestoreDeps = Pick<Deps, 'ledger' | 'locations' | 'targets' | 'http' | 'invoker' | 'clock'> & { store: ObjectReader };

export interface RestoreArgs {
  serviceName: string;
  service: ServiceConfig;
  environment: EnvironmentConfig;
  /** Restore this version; by default the newest known-good version that is not live. */
  toVersion?: string;
  /** Never restore to this version (the one being rolled back). */
  avoid?: string;
  holder: string;
  releaseId: string;
  /** Whose record the decision goes in. */
  recordAs: { service: string; version: string };
  reason: string;
  /** Record "nothing to roll back" when `to` already serves alone, healthy (alarms); otherwise shift anyway, since a failed deploy may have left the target half-switched. */
  skipIfLive?: boolean;
}

export type RestoreOutcome =
  | { rolledBack: true; from?: string; to: string; checksPassed: number; shiftMs: number }
  | { rolledBack: false; reason: string; current?: string };

async function promotedArtifact(deps: Pick<Deps, 'locations' | 'ledger'> & { store: ObjectReader }, env: string, service: string, version: string): Promise<ResolvedArtifact> {
  const bucket = deps.locations.environmentsBucket;
  const key = environmentManifestKey(env, service, version);
  const raw = await readJson(deps.store, { bucket, key });
  if (!raw) throw new ArtifactNotFound(`the promoted copy of ${service} ${version} is missing from s3://${bucket}/${key}`);
  const manifest = parseManifest(raw.ok ? raw.value : null, `s3://${bucket}/${key}`);
  // An image push attaches its digest to the release, not to the build manifest: the release
  // record holds it, as it did when the version was deployed.
  const imageDigest = manifest.imageDigest ?? (await deps.ledger.getRelease(service, version))?.imageDigest;
  return resolvedFrom(manifest, key, imageDigest);
}

/**
 * Puts an environment back on a known-good version (all traffic), verifies it with the smoke
 * checks and records why. The caller holds the environment lock.
 */
export async function restoreEnvironment(args: RestoreArgs, deps: RestoreDeps): Promise<RestoreOutcome> {
  const env = args.environment.name;
  const state = (await deps.ledger.getEnvironment(args.serviceName, env)) ?? emptyEnvironment(args.serviceName, env);
  const to = args.toVersion ?? state.goodVersions.find((v) => v !== args.avoid);
  if (!to) {
    const reason = `no known-good version of ${args.serviceName} to return ${env} to (it serves ${state.version ?? 'nothing'})`;
    await deps.ledger.putEnvironment({ ...state, healthy: state.version === args.avoid ? false : state.healthy, lastOutcome: 'failed', updatedAt: deps.clock.now().toISOString() }, args.holder);
    await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'failed', summary: `${reason}; ${args.reason}` });
    return { rolledBack: false, reason, ...(state.version ? { current: state.version } : {}) };
  }
  if (args.skipIfLive && state.version === to && state.healthy && !state.canary) {
    const reason = `${env} already serves known-good ${to}: nothing to roll back`;
    await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'skipped', summary: reason });
    return { rolledBack: false, reason, current: to };
  }

  // A canary beside the version to keep: shifting to it removes the canary (all traffic to `to`).
  const canary = state.canary ?? undefined;
  const from = canary && state.version === to ? canary.version : state.version;
  const started = Date.now();
  const shifted = await shiftTo(
    {
      state,
      version: to,
      holder: args.holder,
      releaseId: args.releaseId,
      service: args.service,
      environment: args.environment,
      // Read only if the target cannot take the version back from its ref alone.
      artifact: () => promotedArtifact(deps, env, args.serviceName, to),
      location: { bucket: deps.locations.environmentsBucket, prefix: environmentPrefix(env, args.serviceName, to) },
      ...(state.refs[to] ? { ref: state.refs[to] } : {}),
    },
    deps,
  );
  const shiftMs = Date.now() - started;

  const checks = await checkEnvironment(args.service, args.environment, { service: args.serviceName, version: to }, deps);
  const failed = checks.filter((c) => !c.passed);
  const evidence = { from: state.version, ...(canary ? { canary: { version: canary.version, weight: canary.weight } } : {}), to, checks, shiftMs, cause: args.reason };
  if (failed.length > 0) {
    const summary = `rolled ${env} back to ${to}, but its smoke checks fail too: ${failed.map((c) => `${c.name}: ${c.reason}`).join('; ')}`;
    await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'failed', summary, evidence });
    throw new RollbackFailed(summary);
  }
  await deps.ledger.putEnvironment(
    { ...shifted.state, healthy: true, goodVersions: withGood(shifted.state.goodVersions, to), lastOutcome: 'rolled-back', updatedAt: deps.clock.now().toISOString() },
    args.holder,
  );
  await decide(deps, args.recordAs, {
    step: 'rollback',
    environment: env,
    verdict: 'done',
    summary: canary && state.version === to ? `removed the canary ${canary.version} (${canary.weight}%) from ${env}: all traffic to ${to}: ${args.reason}` : `rolled ${env} back from ${state.version ?? 'nothing'} to ${to}: ${args.reason}`,
    evidence,
  });
  return { rolledBack: true, ...(from ? { from } : {}), to, checksPassed: checks.length, shiftMs };
}

export interface FailedRestoreArgs {
  serviceName: string;
  environment: string;
  /** The version the rollback meant to take out of service. */
  suspect: string;
  /** The version it meant to return to, where known. */
  toVersion?: string;
  holder: string;
  recordAs: { service: string; version: string };
  /** Why the rollback ran. */
  reason: string;
  /** How the restore failed, as the state machine's Catch caught it. */
  failure: StepFailure;
}

/** A failed rollback as the ledger keeps it, and as the outcome and the event say it. */
export interface FailedRestore {
  environment: string;
  error: string;
  summary: string;
  /** What the ledger says serves the environment now. */
  serving?: string;
}

/**
 * After a restore failed (its Task's Catch, so a crash or a timeout counts too): the
 * environment keeps the version that really serves, as the ledger has it (a restore that
 * switched records that before its checks), marked unhealthy where that is the suspect or a
 * restored version that failed its checks, and `lastOutcome: 'rollback-failed'`; the history
 * says why. The caller still holds the environment lock; if it lost it, the decision says so.
 */
export async function recordFailedRestore(args: FailedRestoreArgs, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<FailedRestore> {
  const env = args.environment;
  const f = describeFailure(args.failure);
  const state = await deps.ledger.getEnvironment(args.serviceName, env);
  const serving = state?.version;
  const healthy = Boolean(state?.healthy) && serving !== args.suspect;
  let marked = '';
  if (state) {
    try {
      await deps.ledger.putEnvironment({ ...state, healthy, lastOutcome: 'rollback-failed', updatedAt: deps.clock.now().toISOString() }, args.holder);
    } catch (err) {
      if (!(err instanceof LockLost)) throw err;
      marked = ` (not marked in the ledger: ${err.message})`;
    }
  }
  const canary = state?.canary ? ` with canary ${state.canary.version} at ${state.canary.weight}%` : '';
  const now = serving ? `${env} serves ${serving}${canary}, ${healthy ? 'healthy' : 'unhealthy'}` : `${env} serves nothing the ledger knows of`;
  const summary = `rolling ${env} back from ${args.suspect} to ${args.toVersion ?? 'a known-good version'} failed: ${f.error}: ${f.message}; ${now}${marked} (it was rolling back for ${args.reason})`;
  await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'failed', summary, evidence: { error: f.error, message: f.message, serving, canary: state?.canary ?? null, to: args.toVersion, cause: args.reason } });
  return { environment: env, error: f.error, summary, ...(serving ? { serving } : {}) };
}
