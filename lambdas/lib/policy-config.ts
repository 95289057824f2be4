import * as z from 'zod';
import type { FieldIssue } from './errors.js';
import { closest } from './validation.js';
import { parsePrincipal } from './approver-principal.js';
import { RELEASE_TIMEOUT_HOURS, RELEASE_WORK_HOURS, REQUIRED_APPROVALS, WEEKDAYS } from './policy-constants.js';
import { ENVIRONMENT_PATTERN } from './version.js';
import { isTimeZone, minutesOf } from './zoned-time.js';

/**
 * The deployment policy in the pipeline config (`policy`): allowed windows per environment,
 * declared freezes, and who may approve an emergency release. Absent: always open.
 */

/** An approver: a principal ARN (AWS) or a bare name (the local runtime only); approver-principal.ts says which and why. */
const approver = z.string().superRefine((value, ctx) => {
  try {
    parsePrincipal(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const hhmm = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'expected a 24-hour "HH:MM" local time such as "09:00" ("24:00" ends a window at midnight)');
const environmentName = z.string().regex(ENVIRONMENT_PATTERN, 'expected an environment name such as "prod"');
const instant = z.iso.datetime({ offset: true, error: 'expected an ISO 8601 time with a zone, e.g. "2026-12-21T00:00:00Z" or "2026-12-21T00:00:00+01:00"' });

const deployWindow = z
  .strictObject({
    environments: z.array(environmentName).min(1, 'name the environments this window applies to, e.g. ["prod"]'),
    days: z.array(z.enum(WEEKDAYS, { error: `expected a day of the week: ${WEEKDAYS.join(', ')}` })).min(1, 'name at least one day, e.g. ["mon","tue","wed","thu","fri"]'),
    from: hhmm,
    to: hhmm,
  })
  .refine((w) => minutesOf(w.from) < minutesOf(w.to), { message: 'from must be before to on the same day (a window cannot span midnight: split it in two)', path: ['to'] });

const freeze = z
  .strictObject({
    name: z.string().min(1, 'give the freeze a name people recognise, e.g. "year-end"'),
    from: instant,
    to: instant,
    /** Absent: every environment. */
    environments: z.array(environmentName).min(1).optional(),
    reason: z.string().optional(),
  })
  .refine((f) => Date.parse(f.from) < Date.parse(f.to), { message: 'from must be before to', path: ['to'] });

export const policySchema = z.strictObject({
  /** The zone the windows' days and times are in. */
  timezone: z
    .string()
    .default('UTC')
    .superRefine((zone, ctx) => {
      if (isTimeZone(zone)) return;
      const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
      const guess = closest(zone, zones);
      ctx.addIssue({ code: 'custom', message: `"${zone}" is not an IANA time zone${guess ? `; did you mean "${guess}"?` : ' (e.g. "Europe/Berlin", "America/New_York", "UTC")'}` });
    }),
  /** Allowed windows: an environment any window names may deploy only inside one of them. */
  windows: z.array(deployWindow).default([]),
  /** Blocked periods; they win over windows. */
  freezes: z.array(freeze).default([]),
  /** Who may approve an emergency release (two different ones must) or decide a held canary (one does): principal ARNs (approver-principal.ts). */
  approvers: z.array(approver).default([]),
  /** Approvers' GitHub logins, by approver: whoever pushed a release's tag may not approve its emergency. */
  githubLogins: z.record(z.string(), z.string().regex(/^[A-Za-z\d-]{1,39}$/, 'expected a GitHub login')).default({}),
  /** A release into a closed environment waits up to this long for it to open, then fails. */
  maxWaitHours: z.number().min(0).max(168).default(72),
  /** How long an emergency release waits for its two approvals, or a held canary for its decision, before it fails (safe). */
  approvalTimeoutHours: z.number().min(1 / 3600, 'at least one second (1/3600 h)').max(168).default(24),
})
  // Inside the schema, so they are reported with a bad window or freeze, not after it is fixed.
  .superRefine((policy, ctx) => {
    for (const issue of approverIssues(policy)) ctx.addIssue({ code: 'custom', message: issue.problem, path: issue.path });
  });

/** Who may approve: each once, of one account, enough of them for an emergency. */
function approverIssues(policy: { approvers?: unknown }): { path: (string | number)[]; problem: string }[] {
  // The policy may be partly invalid here: read only what has the right shape.
  const approvers = Array.isArray(policy.approvers) ? policy.approvers.filter((a): a is string => typeof a === 'string') : [];
  const issues: { path: (string | number)[]; problem: string }[] = [];
  const seen = new Set<string>();
  approvers.forEach((a, i) => {
    if (seen.has(a)) issues.push({ path: ['approvers', i], problem: `"${a}" appears twice; each approver counts once` });
    seen.add(a);
  });
  const accounts = [...new Set(approvers.flatMap((a) => (a.startsWith('arn:') ? [a.split(':')[4]] : [])))];
  if (accounts.length > 1) issues.push({ path: ['approvers'], problem: `approvers come from accounts ${accounts.join(', ')}; only principals of the pipeline's own account can approve` });
  if (approvers.length > 0 && seen.size < REQUIRED_APPROVALS) {
    issues.push({ path: ['approvers'], problem: `an emergency release needs ${REQUIRED_APPROVALS} different approvers, and ${seen.size} can never give that; list at least ${REQUIRED_APPROVALS}, or none to allow no emergency overrides` });
  }
  return issues;
}

export type DeployPolicy = z.infer<typeof policySchema>;
export type DeployWindow = z.infer<typeof deployWindow>;
export type Freeze = z.infer<typeof freeze>;

export const POLICY_KEYS = {
  policy: Object.keys(policySchema.shape),
  window: ['environments', 'days', 'from', 'to'],
  freeze: ['name', 'from', 'to', 'environments', 'reason'],
};

/** The environments a window or freeze limits (a freeze without `environments` limits all). */
export function gatedEnvironments(policy: DeployPolicy, environments: readonly string[]): string[] {
  const named = new Set([...policy.windows.flatMap((w) => w.environments), ...policy.freezes.flatMap((f) => f.environments ?? environments)]);
  return environments.filter((e) => named.has(e));
}

/**
 * Windows and freezes that name an environment no service has. Reads the policy leniently, so
 * that a policy wrong elsewhere still has its names checked in the same run.
 */
export function environmentNameIssues(policy: unknown, environments: readonly string[]): FieldIssue[] {
  const known = [...new Set(environments)];
  const issues: FieldIssue[] = [];
  const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  const p = policy !== null && typeof policy === 'object' ? (policy as Record<string, unknown>) : {};
  for (const kind of ['windows', 'freezes'] as const) {
    listOf(p[kind]).forEach((item, i) => {
      const names = item !== null && typeof item === 'object' ? listOf((item as Record<string, unknown>).environments) : [];
      names.forEach((name, j) => {
        if (typeof name === 'string' && !known.includes(name)) issues.push({ field: `policy.${kind}[${i}].environments[${j}]`, problem: `no service has an environment "${name}"; environments: ${known.join(', ')}` });
      });
    });
  }
  return issues;
}

/** Checks across the config: names that must exist, counts, and the release machine's time budget. */
export function policyIssues(
  policy: DeployPolicy,
  services: Record<string, { environments: { name: string; canary?: { steps: number[]; onInconclusive: string } | undefined; approval?: { from: string[]; timeoutHours: number } | undefined }[] }>,
  /** Every environment name the config has, where `services` holds only those that parse. */
  environments: readonly string[] = Object.values(services).flatMap((s) => s.environments.map((e) => e.name)),
): FieldIssue[] {
  const issues: FieldIssue[] = environmentNameIssues(policy, environments);
  // An environment's approvers (approval.from) may push tags too: their logins stop them approving their own release.
  const approvers = new Set([...policy.approvers, ...Object.values(services).flatMap((s) => s.environments.flatMap((e) => e.approval?.from ?? []))]);
  for (const who of Object.keys(policy.githubLogins)) {
    if (!approvers.has(who)) issues.push({ field: `policy.githubLogins.${who}`, problem: `"${who}" is not in policy.approvers nor any environment's approval.from; list GitHub logins of approvers only` });
  }

  // Each gated environment of a release may wait (for its window, or for approvals) once, and
  // a canary that holds may wait for a decision at each of its steps below 100%.
  const perEnvironment = Math.max(policy.maxWaitHours, policy.approvalTimeoutHours);
  for (const [name, svc] of Object.entries(services)) {
    const gated = gatedEnvironments(policy, svc.environments.map((e) => e.name));
    const holds = svc.environments.reduce((n, e) => n + (e.canary?.onInconclusive === 'hold' ? e.canary.steps.filter((w) => w < 100).length : 0), 0);
    // Environments' sign-offs (approval.timeoutHours) wait besides; approval-config.ts checks them alone when there is no policy.
    const signOffs = svc.environments.reduce((h, e) => h + (e.approval?.timeoutHours ?? 0), 0);
    const worst = gated.length * perEnvironment + holds * policy.approvalTimeoutHours + signOffs;
    if (worst + RELEASE_WORK_HOURS > RELEASE_TIMEOUT_HOURS) {
      const waits = [
        gated.length ? `${perEnvironment} h in each of its ${gated.length} gated environments (${gated.join(', ')})` : '',
        holds ? `${policy.approvalTimeoutHours} h at each of ${holds} canary steps that hold` : '',
        signOffs ? `${signOffs} h for its environments' approvals (approval.timeoutHours)` : '',
      ]
        .filter(Boolean)
        .join(' and ');
      const slots = gated.length + holds;
      const room = Math.floor((RELEASE_TIMEOUT_HOURS - RELEASE_WORK_HOURS - signOffs) / slots);
      const beyond = `a release of ${name} could wait ${waits}, ${worst} h in all, beyond the release machine's ${RELEASE_TIMEOUT_HOURS} h limit less ${RELEASE_WORK_HOURS} h for the release itself`;
      issues.push(
        slots > 0 && room > 0
          ? { field: policy.maxWaitHours >= policy.approvalTimeoutHours && gated.length ? 'policy.maxWaitHours' : 'policy.approvalTimeoutHours', problem: `${beyond}; lower it to at most ${room}${signOffs ? ", or lower the environments' approval.timeoutHours" : ''}` }
          : { field: `services.${name}.environments`, problem: `${beyond}; lower the environments' approval.timeoutHours` },
      );
    }
  }
  return issues;
}
