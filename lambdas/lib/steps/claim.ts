import { decide } from '../decisions.js';
import type { Deps } from '../ports.js';
import type { ReleaseContext, ReleaseRecord } from '../types.js';

export type ClaimOutput = { claimed: true } | { claimed: false; reason: string; existingExecution: string };

/** Step 2: one release per service+version. A duplicate trigger is a no-op, not a second release. */
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
  };
  const result = await deps.ledger.claimRelease(record);
  if (!result.claimed) {
    // A retried Lambda invocation of this same execution finds its own record: still ours.
    if (result.existing.executionId === ctx.executionId) return { claimed: true };
    // A tag push and an image push for one version: one release, and it learns the digest.
    if (release.imageDigest && !result.existing.imageDigest && (await deps.ledger.attachImageDigest(release.service, release.version, release.imageDigest))) {
      await decide(deps, release, {
        step: 'claim',
        verdict: 'skipped',
        summary: `duplicate ${release.trigger.kind} trigger; attached image digest ${release.imageDigest} to the running release`,
        evidence: { executionId: ctx.executionId, releasedBy: result.existing.executionId },
      });
    }
    return {
      claimed: false,
      existingExecution: result.existing.executionId,
      reason: `${ctx.releaseId} was already started at ${result.existing.startedAt} by ${result.existing.executionId} (trigger: ${result.existing.trigger.kind}); versions are immutable, so tag a new version to release again`,
    };
  }
  await decide(deps, release, {
    step: 'claim',
    verdict: 'passed',
    summary: `release claimed; plan ${record.plan.join(' → ')}`,
    evidence: { trigger: release.trigger, executionId: ctx.executionId },
  });
  return { claimed: true };
}
