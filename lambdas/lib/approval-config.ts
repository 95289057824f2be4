import * as z from 'zod';
import { parsePrincipal } from './approver-principal.js';
import type { FieldIssue } from './errors.js';
import { RELEASE_TIMEOUT_HOURS, RELEASE_WORK_HOURS } from './policy-constants.js';

/**
 * `environments[].approval`: a routine sign-off before every deploy into that environment
 * (a release owner, a manual production check). The release waits, holding no lock, until
 * `needed` different people of `from` approve (kind `promotion`, approval-kinds.ts), one of
 * them rejects, or `timeoutHours` pass (it fails safe).
 */

/** An approver: a principal ARN (AWS) or a bare name (the local runtime only), as in `policy.approvers`. */
export const approverSchema = z.string().superRefine((value, ctx) => {
  try {
    parsePrincipal(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const environmentApprovalSchema = z.strictObject({
  /** Different approvers it takes. */
  needed: z.number({ error: 'expected a whole number of approvers, e.g. 1' }).int('expected a whole number of approvers, e.g. 1').min(1, 'at least 1 (remove "approval" for no sign-off)').default(1),
  /** Who may approve: the same form as policy.approvers. */
  from: z.array(approverSchema, { error: 'expected a list of approvers, e.g. ["alice"] or ["arn:aws:iam::111122223333:user/alice"]' }).min(1, 'name at least one approver, e.g. ["alice"] or ["arn:aws:iam::111122223333:user/alice"]'),
  /** How long the release waits for the approvals before it fails (ApprovalTimedOut). */
  timeoutHours: z.number({ error: 'expected a number of hours, e.g. 24' }).gt(0, 'more than 0 hours (1/3600 is one second)').max(168, 'at most 168 (a week)').default(24),
});

export type EnvironmentApproval = z.infer<typeof environmentApprovalSchema>;

export const APPROVAL_KEYS = Object.keys(environmentApprovalSchema.shape);

/** Across one environment's approval, and a service's waits: what the schema alone cannot see. */
export function approvalIssues(
  services: Record<string, { environments: { name: string; approval?: EnvironmentApproval | undefined }[] }>,
  /** With a policy, its check (policy-config.ts) counts the sign-offs with its own waits. */
  hasPolicy = false,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [name, svc] of Object.entries(services)) {
    let waits = 0;
    svc.environments.forEach((env, i) => {
      const a = env.approval;
      if (!a) return;
      const field = `services.${name}.environments[${i}].approval`;
      waits += a.timeoutHours;
      const seen = new Set<string>();
      a.from.forEach((who, j) => {
        if (seen.has(who)) issues.push({ field: `${field}.from[${j}]`, problem: `"${who}" appears twice; each approver counts once` });
        seen.add(who);
      });
      if (a.needed > seen.size) {
        issues.push({ field: `${field}.needed`, problem: `${a.needed} different approvals can never come from the ${seen.size} approver${seen.size === 1 ? '' : 's'} in from; lower needed or list more approvers` });
      }
      const accounts = [...new Set(a.from.flatMap((who) => (who.startsWith('arn:') ? [who.split(':')[4]] : [])))];
      if (accounts.length > 1) issues.push({ field: `${field}.from`, problem: `approvers come from accounts ${accounts.join(', ')}; only principals of the pipeline's own account can approve` });
    });
    // The sign-offs must fit the release machine's time limit; with a policy, together with its waits, there.
    if (!hasPolicy && waits + RELEASE_WORK_HOURS > RELEASE_TIMEOUT_HOURS) {
      issues.push({
        field: `services.${name}.environments`,
        problem: `a release of ${name} could wait ${waits} h for approvals (the sum of its environments' approval.timeoutHours), beyond the release machine's ${RELEASE_TIMEOUT_HOURS} h limit less ${RELEASE_WORK_HOURS} h for the release itself; lower timeoutHours`,
      });
    }
  }
  return issues;
}
