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
  /** `summary`: what changed, as the ledger words it (e.g. "canary v1.2.0 removed from prod at 10%; all traffic on v1.0.0"), for an event's detail. */
  | { rolledBack: true; from?: string; to: string; summary: string; checksPassed: number; shiftMs: number }
  /** `summary` is `reason` here, so that a reader of either outcome finds one. */
  | { rolledBack: false; reason: string; summary: string; current?: string };

/** What a restore changes: the live version, a canary beside it (if any), and the version that takes all traffic. */
export interface RestoreChange {
  environment: string;
  /** The live version before the restore. */
  live?: string | null | undefined;
  canary?: { version: string; weight: number } | null | undefined;
  to: string;
  /** The version being taken out of service, where known. */
  suspect?: string | undefined;
}

/**
 * A restore in words, for each case a person meets: a canary removed ("canary v1.2.0 removed
 * from prod at 10%; all traffic on v1.0.0"), the live version rolled back ("rolled prod back
 * from v1.1.0 to v1.0.0"), both at once, or an environment the suspect never took over, which
 * keeps its version.
 */
export function describeRestore(c: RestoreChange): string {
  const env = c.environment;
  const removed = c.canary ? `canary ${c.canary.version} removed from ${env} at ${c.canary.weight}%` : undefined;
  if (removed && c.live === c.to) return `${removed}; all traffic on ${c.to}`;
  if (removed) return `${removed} and ${env} rolled back from ${c.live ?? 'nothing'} to ${c.to}; all traffic on ${c.to}`;
  if (!c.live) return `${env} put on ${c.to} (it served nothing); all traffic on ${c.to}`;
  if (c.live === c.to) return `${env} kept on ${c.to}, which it still served alone${c.suspect && c.suspect !== c.to ? ` (${c.suspect} took none of its traffic)` : ''}; all traffic on ${c.to}`;
  return `rolled ${env} back from ${c.live} to ${c.to}`;
}

/** What an unfinished restore set out to do: remove a canary, or roll the live version back. */
function describeAttempt(env: string, suspect: string, to: string, canary: boolean): string {
  return canary ? `removing canary ${suspect} from ${env} (all traffic to ${to})` : `rolling ${env} back from ${suspect} to ${to}`;
}

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
    return { rolledBack: false, reason, summary: reason, ...(state.version ? { current: state.version } : {}) };
  }
  if (args.skipIfLive && state.version === to && state.healthy && !state.canary) {
    const reason = `${env} already serves known-good ${to}: nothing to roll back`;
    await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'skipped', summary: reason });
    return { rolledBack: false, reason, summary: reason, current: to };
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
  const change: RestoreChange = { environment: env, live: state.version, canary: canary ? { version: canary.version, weight: canary.weight } : undefined, to, suspect: args.avoid };
  if (failed.length > 0) {
    const summary = `${describeRestore(change)}, but ${to}'s smoke checks fail too: ${failed.map((c) => `${c.name}: ${c.reason}`).join('; ')}`;
    await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'failed', summary, evidence });
    throw new RollbackFailed(summary);
  }
  // The suspect is known-good no more: neither the next rollback's target nor status's previous good.
  const good = shifted.state.goodVersions.filter((v) => v !== args.avoid || v === to);
  await deps.ledger.putEnvironment(
    // Back on a known-good version: a known state again, so any drift mark goes.
    { ...shifted.state, healthy: true, goodVersions: withGood(good, to), lastOutcome: 'rolled-back', updatedAt: deps.clock.now().toISOString(), ...(shifted.state.drift ? { drift: null } : {}) },
    args.holder,
  );
  const summary = describeRestore(change);
  await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'done', summary: `${summary} — ${args.reason}`, evidence });
  return { rolledBack: true, ...(from ? { from } : {}), to, summary, checksPassed: checks.length, shiftMs };
}

export interface FailedRestoreArgs {
  serviceName: string;
  environment: string;
  /** The version the rollback meant to take out of service. */
  suspect: string;
  /** The version it meant to return to, where known. */
  toVersion?: string;
  /** The suspect was a canary beside `toVersion` (the rollback machine's `remove-canary`); by default, when the ledger still shows it so. */
  canary?: boolean;
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
  const to = args.toVersion ?? 'a known-good version';
  const wasCanary = args.canary ?? (state?.canary?.version === args.suspect && (!args.toVersion || serving === args.toVersion));
  const summary = `${describeAttempt(env, args.suspect, to, wasCanary)} failed: ${f.error}: ${f.message}; ${now}${marked} (it was rolling back for ${args.reason})`;
  await decide(deps, args.recordAs, { step: 'rollback', environment: env, verdict: 'failed', summary, evidence: { error: f.error, message: f.message, serving, canary: state?.canary ?? null, to: args.toVersion, cause: args.reason } });
  return { environment: env, error: f.error, summary, ...(serving ? { serving } : {}) };
}
