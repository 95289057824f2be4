import { decide } from '../decisions.js';
import { InvalidInput } from '../errors.js';
import { MANUAL_ROLLBACK_EXAMPLE } from '../rollback-example.js';
import { errorMessage } from '../errors.js';
import { manifestKey } from '../keys.js';
import { parseManifest } from '../manifest.js';
import type { Deps, ObjectReader } from '../ports.js';
import { describeCompat, runsAgainst } from '../schema-compat.js';
import { readJson } from '../store-json.js';
import { releaseIdOf, type EnvironmentState, type IrreversibleMark } from '../types.js';
import type { RollbackContext } from './normalise-rollback.js';

/** The running release a rollback stops, and whose outcome it then records (a stopped execution never runs its own Catch). */
export interface StoppedRelease {
  releaseId: string;
  version: string;
  executionId: string;
}

export type PrepareRollbackOutput =
  /**
   * `remove-canary`: all traffic back to the live version `toVersion`, which stays; `rollback`:
   * the environment goes to `toVersion`. `fromVersion` is the suspect, whose record the
   * rollback goes in.
   */
  | { action: 'rollback' | 'remove-canary'; fromVersion: string; toVersion: string; stopExecution: string | null; ends: StoppedRelease | null }
  | { action: 'nothing'; reason: string }
  /** The ledger cannot tell which version is bad: nothing is touched, and `reason` says what it knows. */
  | { action: 'refuse'; error: 'RollbackRefused'; reason: string };

const isReleaseExecution = (arn: string) => /:execution:[^:]*release[^:]*:/.test(arn);

const describeState = (s: EnvironmentState) =>
  `live ${s.version ?? 'nothing'}${s.version ? `, ${s.healthy ? 'healthy' : 'unhealthy'}` : ''}, ${s.canary ? `canary ${s.canary.version} (${s.canary.weight}%)` : 'no canary'}`;

/**
 * Decides what a rollback does before it touches anything, from what the ledger recorded:
 * which version is the suspect, which known-good version to return to, whether an alarm's
 * flap already started this rollback, and which running release (if any) must be stopped.
 *
 * The suspect is the version that changed last: a canary (at any weight, held or baking)
 * before the live version, so removing it leaves the healthy live version alone; else the
 * live version, which a running release may have just deployed. A release that holds the
 * environment's lock but has recorded no change of its traffic may be changing it right now:
 * then the ledger cannot tell which version is bad, and the rollback refuses rather than guess.
 */
export async function prepareRollback(ctx: RollbackContext, deps: Pick<Deps, 'ledger' | 'clock' | 'locations'> & { store: ObjectReader }): Promise<PrepareRollbackOutput> {
  const env = ctx.environment;
  const state = await deps.ledger.getEnvironment(ctx.service, env);
  const current = state?.version;
  const nothing = async (reason: string): Promise<PrepareRollbackOutput> => {
    if (current) await decide(deps, { service: ctx.service, version: current }, { step: 'rollback', environment: env, verdict: 'skipped', summary: `nothing to roll back: ${reason}`, evidence: { trigger: ctx.trigger, cause: ctx.reason } });
    return { action: 'nothing', reason };
  };
  const refuse = async (reason: string): Promise<PrepareRollbackOutput> => {
    if (current) await decide(deps, { service: ctx.service, version: current }, { step: 'rollback', environment: env, verdict: 'skipped', summary: `rollback refused: ${reason}`, evidence: { trigger: ctx.trigger, cause: ctx.reason } });
    return { action: 'refuse', error: 'RollbackRefused', reason };
  };
  if (!state || !current) return nothing(`${env} of ${ctx.service} has never been deployed`);

  if (ctx.toVersion && !state.goodVersions.includes(ctx.toVersion)) {
    throw new InvalidInput(
      [{ field: 'toVersion', problem: `${ctx.toVersion} has not succeeded in ${env} before; known-good versions there: ${state.goodVersions.join(', ') || '(none)'}` }],
      MANUAL_ROLLBACK_EXAMPLE,
    );
  }

  // A release running here (an unexpired lock), and the version it put here, as the ledger records it.
  const holder = state.lockHolder && (state.lockExpiresAt ?? 0) > deps.clock.now().getTime() ? state.lockHolder : undefined;
  const running = holder && holder !== ctx.executionId && isReleaseExecution(holder) ? holder : undefined;
  let ends: StoppedRelease | null = null;
  if (running) {
    for (const v of [state.canary?.version, current]) {
      if (v && (await deps.ledger.getRelease(ctx.service, v))?.executionId === running) {
        ends = { releaseId: releaseIdOf(ctx.service, v), version: v, executionId: running };
        break;
      }
    }
    if (!ends || (state.canary && ends.version !== state.canary.version)) {
      const named = ends ?? (await deps.ledger.releases(ctx.service)).map((r) => r.release).find((r) => r.executionId === running);
      const who = named ? `the release of ${named.version} (${running})` : `release execution ${running}`;
      const suspects = [...new Set([state.canary?.version, current, named?.version].filter((v): v is string => Boolean(v)))];
      return refuse(
        `${who} holds ${env} of ${ctx.service}, but the ledger records no change of traffic by it there (${describeState(state)}): ` +
          `it may be changing traffic now, so the rollback cannot tell whether ${suspects.join(' or ')} is bad. Nothing was changed; ` +
          `roll back again once that release has ended or shifted traffic, or stop it first`,
      );
    }
  }

  let fromVersion: string;
  let toVersion: string | undefined;
  let action: 'rollback' | 'remove-canary' = 'rollback';
  if (state.canary) {
    // The canary changed last: it is the suspect, and the live version it runs beside was
    // healthy before it (a canary starts only beside a healthy live version).
    fromVersion = state.canary.version;
    if (!ctx.toVersion && !state.healthy) return refuse(`a canary runs in ${env} beside a live version that is not healthy (${describeState(state)}), so there is no known-good version to put all traffic on; name one with toVersion`);
    toVersion = ctx.toVersion ?? current;
    if (toVersion === current) action = 'remove-canary';
  } else {
    fromVersion = current;
    if (ctx.toVersion) {
      if (ctx.toVersion === current && state.healthy) return nothing(`${env} already serves ${current}`);
      toVersion = ctx.toVersion;
    } else {
      // An environment that a rollback put on its version is already on known-good: an alarm
      // that flaps again must not walk it further back.
      if (!running && state.lastOutcome === 'rolled-back' && state.healthy) return nothing(`${env} already serves ${current}, restored by an earlier rollback`);
      toVersion = state.goodVersions.find((v) => v !== current);
      if (!toVersion) return nothing(`no known-good version of ${ctx.service} other than ${current} in ${env}`);
    }
  }

  // Past a migration, only a version that declares it runs against the schema now in place.
  const incompatible = state.irreversibleAfter && toVersion !== state.irreversibleAfter.version ? await schemaRefusal(ctx.service, env, state.irreversibleAfter, toVersion, deps) : undefined;
  if (incompatible) return refuse(incompatible);

  if (ctx.trigger.kind === 'alarm') {
    const claim = await deps.ledger.claimRollback(ctx.service, env, fromVersion, ctx.executionId, deps.clock.now().toISOString());
    const what = action === 'remove-canary' ? `removal of canary ${fromVersion} from ${env}` : `rollback of ${fromVersion} in ${env}`;
    if (!claim.claimed) return { action: 'nothing', reason: `${what} already started by ${claim.by} at ${claim.at}` };
  }
  return { action, fromVersion, toVersion, stopExecution: running ?? null, ends };
}

/**
 * Why `toVersion` may not serve past the migration `mark` records, or undefined when its build
 * declares it runs against the schema in place (`schema` or `schemaCompat` in its manifest).
 */
async function schemaRefusal(service: string, env: string, mark: IrreversibleMark, toVersion: string, deps: Pick<Deps, 'locations'> & { store: ObjectReader }): Promise<string | undefined> {
  const ran = `${mark.phase} migration ${mark.migrations.join(', ')} of ${mark.version} ran in ${env} at ${mark.at}`;
  const how = 'nothing was changed; roll forward with a fix, or roll back to a known-good version whose build declares schemaCompat with it (toVersion)';
  if (mark.schema === undefined) return `${ran}, and its build declared no schema, so no earlier version can be shown to run against what it changed; ${how}`;
  const where = `s3://${deps.locations.artifactsBucket}/${manifestKey(service, toVersion)}`;
  let build;
  try {
    const raw = await readJson(deps.store, { bucket: deps.locations.artifactsBucket, key: manifestKey(service, toVersion) });
    if (!raw) return `${ran} (schema ${mark.schema}), and ${toVersion}'s build manifest is not at ${where} to say whether it runs against it; ${how}`;
    build = parseManifest(raw.ok ? raw.value : null, where);
  } catch (err) {
    return `${ran} (schema ${mark.schema}), and ${toVersion}'s build manifest cannot be read: ${errorMessage(err)}; ${how}`;
  }
  if (runsAgainst(build, mark.schema)) return undefined;
  return `${ran}: the schema is now ${mark.schema}, and ${toVersion} ${describeCompat(build)}, so it may not run against schema ${mark.schema}; ${how}`;
}
