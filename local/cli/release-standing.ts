import type { Decision, OutcomeRecord } from '../../lambdas/lib/types.js';

/**
 * Where a release stands now, as `status` and `history` say it. A release that succeeded and
 * was rolled back afterwards (by an alarm or by hand) stands rolled back: its outcome record
 * keeps what its own execution did, and the rollback's decisions, recorded against the
 * version, say the rest.
 */
export interface Standing {
  /** `succeeded`, `rolled-back`, `failed`, `aborted`, or `in progress`. */
  word: string;
  /** Why, in one line. */
  reason: string;
}

export function standingOf(outcome: OutcomeRecord | undefined, decisions: readonly Decision[]): Standing {
  if (!outcome) return { word: 'in progress', reason: '' };
  const own = { word: outcome.outcome, reason: outcome.reason ?? '' };
  if (outcome.outcome !== 'succeeded') return own;
  const later = decisions.filter((d) => d.step === 'rollback' && d.verdict === 'done' && d.at >= outcome.finishedAt);
  if (later.length === 0) return own;
  const where = [...new Set(later.map((d) => d.environment).filter((e): e is string => !!e))];
  return { word: 'rolled-back', reason: `succeeded at ${outcome.finishedAt}, then rolled back${where.length ? ` in ${where.join(', ')}` : ''}: ${later.at(-1)!.summary}` };
}
