import { decide } from '../decisions.js';
import type { Deps } from '../ports.js';
import { configVersionOf, releaseKindOf } from '../version.js';
import type { OutcomeRecord, ReleaseContext, ReleaseOutcome, ReleaseRecord } from '../types.js';

/** What happened to the attempt a duplicate trigger found: its outcome, or `in-progress` while it has none. */
export interface EarlierAttempt {
  attempt: number;
  executionId: string;
  outcome: ReleaseOutcome | 'in-progress';
  reason?: string;
  /** Environments that served the version (a version that reached one is immutable). */
  reached: string[];
  /** Whether `retry` may start it again: it failed or was aborted before anything was deployed. */
  retryable: boolean;
}

export type ClaimOutput =
  | { claimed: true; attempt?: number }
  | { claimed: false; reason: string; existingExecution: string; earlier: EarlierAttempt };

/**
 * The environments where a version took traffic: the outcome's, and every environment whose
 * state records a handle for it (`refs`, written with each traffic change) or serves it —
 * facts the ledger keeps, not a guess from the steps that ran.
 */
async function reachedBy(record: ReleaseRecord, outcome: OutcomeRecord | undefined, deps: Pick<Deps, 'ledger'>): Promise<string[]> {
  const reached = new Set(outcome?.environments ?? []);
  for (const s of await deps.ledger.environments(record.service)) {
    if (s.refs?.[record.version] !== undefined || s.version === record.version || s.canary?.version === record.version) reached.add(s.environment);
  }
  return [...reached].sort();
}

async function earlierAttempt(record: ReleaseRecord, deps: Pick<Deps, 'ledger'>): Promise<EarlierAttempt> {
  const stored = await deps.ledger.getOutcome(record.service, record.version);
  // An outcome of an attempt before the current one says nothing about the current one.
  const outcome = stored && stored.executionId === record.executionId ? stored : undefined;
  const reached = await reachedBy(record, outcome, deps);
  const ended = outcome?.outcome === 'failed' || outcome?.outcome === 'aborted';
  return {
    attempt: record.attempt ?? 1,
    executionId: record.executionId,
    outcome: outcome?.outcome ?? 'in-progress',
    ...(outcome?.reason ? { reason: outcome.reason } : {}),
    reached,
    retryable: ended && reached.length === 0,
  };
}

/** The DUPLICATE answer: what happened to the earlier attempt, and what the person can do. */
function duplicateReason(ctx: ReleaseContext, existing: ReleaseRecord, earlier: EarlierAttempt): string {
  const head = `DUPLICATE: ${ctx.releaseId} was already started at ${existing.startedAt} by ${existing.executionId} (trigger: ${existing.trigger.kind}${earlier.attempt > 1 ? `, attempt ${earlier.attempt}` : ''})`;
  const why = earlier.reason ? `: ${earlier.reason}` : '';
  switch (earlier.outcome) {
    case 'succeeded':
      return `${head} and succeeded${why}; versions are immutable, so tag a new version to release again`;
    case 'in-progress':
      return `${head} and is still in progress (no outcome yet); wait for it, or stop it and let the reconciler record it, then retry`;
    default:
      if (earlier.retryable) {
        return `${head} and ${earlier.outcome === 'aborted' ? 'was aborted' : 'failed'}${why}; nothing was deployed, so this version may be released again: start it with "retry": true (tagflow local release … --retry)`;
      }
      return `${head} and ended ${earlier.outcome}${why}; it reached ${earlier.reached.join(', ') || 'an environment'}, and a version is immutable once it reached one, so tag a new version`;
  }
}

/**
 * Step 2: one release per service+version. A duplicate trigger is a no-op, not a second
 * release; it says what happened to the earlier attempt. An explicit `retry` starts a version
 * again whose last attempt failed or was aborted before anything was deployed (the record
 * counts attempts); a version that reached an environment stays immutable.
 */
export async function claim(ctx: ReleaseContext, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<ClaimOutput> {
  const { release } = ctx;
  const record: ReleaseRecord = {
    releaseId: ctx.releaseId,
    service: release.service,
    version: release.version,
    ...(release.commit ? { commit: release.commit } : {}),
    ...(release.imageDigest ? { imageDigest: release.imageDigest } : {}),
    trigger: release.trigger,
    executionId: ctx.executionId,
    startedAt: deps.clock.now().toISOString(),
    plan: ctx.plan.map((e) => e.name),
    configSnapshot: JSON.stringify(ctx.service),
    // The version's shape says it (version.ts); Resolve artifact holds the manifest to the same.
    ...(releaseKindOf(release.version) === 'config' ? { releaseKind: 'config' as const } : {}),
  };
  const result = await deps.ledger.claimRelease(record);
  if (!result.claimed) {
    const existing = result.existing;
    // A retried Lambda invocation of this same execution finds its own record: still ours.
    if (existing.executionId === ctx.executionId) return { claimed: true, ...(existing.attempt ? { attempt: existing.attempt } : {}) };
    // A tag push and an image push for one version: one release, and it learns the digest.
    if (release.imageDigest && !existing.imageDigest && (await deps.ledger.attachImageDigest(release.service, release.version, release.imageDigest))) {
      await decide(deps, release, {
        step: 'claim',
        verdict: 'skipped',
        summary: `duplicate ${release.trigger.kind} trigger; attached image digest ${release.imageDigest} to the running release`,
        evidence: { executionId: ctx.executionId, releasedBy: existing.executionId },
      });
    }
    const earlier = await earlierAttempt(existing, deps);
    // The next environment of a train member: its earlier leg (same train execution) succeeded.
    if (release.train && existing.trigger.detail === release.trigger.detail && earlier.outcome === 'succeeded') {
      const attempt = earlier.attempt + 1;
      const previous = { attempt: earlier.attempt, executionId: existing.executionId, startedAt: existing.startedAt, outcome: earlier.outcome };
      if (await deps.ledger.retryRelease({ ...record, attempt }, existing.executionId, previous)) {
        await decide(deps, release, {
          step: 'claim',
          verdict: 'passed',
          summary: `train ${release.train.name} continues the release to ${record.plan.join(' → ')} (leg ${attempt}; the earlier leg reached ${earlier.reached.join(', ') || 'nothing'})`,
          evidence: { trigger: release.trigger, executionId: ctx.executionId, earlier: previous },
        });
        return { claimed: true, attempt };
      }
    }
    if (release.retry && earlier.retryable) {
      const attempt = earlier.attempt + 1;
      const previous = { attempt: earlier.attempt, executionId: existing.executionId, startedAt: existing.startedAt, outcome: earlier.outcome as ReleaseOutcome, ...(earlier.reason ? { reason: earlier.reason } : {}) };
      if (await deps.ledger.retryRelease({ ...record, attempt }, existing.executionId, previous)) {
        await decide(deps, release, {
          step: 'claim',
          verdict: 'passed',
          summary: `retry: attempt ${attempt} of ${ctx.releaseId} (attempt ${earlier.attempt} ${earlier.outcome}${earlier.reason ? `: ${earlier.reason}` : ''}; nothing had been deployed); plan ${record.plan.join(' → ')}`,
          evidence: { trigger: release.trigger, executionId: ctx.executionId, earlier: previous },
        });
        return { claimed: true, attempt };
      }
      // Another retry won the conditional write: answer as a duplicate of that one.
      const now = await deps.ledger.getRelease(release.service, release.version);
      if (now) return { claimed: false, existingExecution: now.executionId, earlier: await earlierAttempt(now, deps), reason: duplicateReason(ctx, now, await earlierAttempt(now, deps)) };
    }
    const refused = release.retry && !earlier.retryable ? ` (retry refused: ${earlier.outcome === 'in-progress' ? 'the earlier attempt has no outcome yet' : earlier.reached.length ? 'it reached an environment' : `it ${earlier.outcome}`})` : '';
    return { claimed: false, existingExecution: existing.executionId, earlier, reason: duplicateReason(ctx, existing, earlier) + refused };
  }
  await decide(deps, release, {
    step: 'claim',
    verdict: 'passed',
    summary: `${record.releaseKind === 'config' ? `config release of ${configVersionOf(release.version)!.base} claimed` : 'release claimed'}; plan ${record.plan.join(' → ')}`,
    evidence: { trigger: release.trigger, executionId: ctx.executionId },
  });
  return { claimed: true };
}
