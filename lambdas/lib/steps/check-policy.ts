import type { EnvironmentConfig } from '../config.js';
import { decide } from '../decisions.js';
import { DeployWindowClosed, EnvironmentDrifted, VersionRegression } from '../errors.js';
import { approvalTimeoutSeconds } from '../approval-timeout.js';
import { approversOf } from '../approval-kinds.js';
import { REQUIRED_APPROVALS } from '../policy-constants.js';
import { evaluatePolicy, UNCONFIGURED_POLICY, withLedgerFreezes } from '../policy.js';
import type { ApprovalStore, Deps } from '../ports.js';
import type { ReleaseRequest } from '../types.js';
import { hotfixFacts, type HotfixDeps, type HotfixFacts } from './hotfix-evidence.js';
import { VulnerabilityGateFailed } from '../supply-chain/vulnerability-gate.js';
import type { VulnerabilityOverride } from './vulnerability-gate.js';

/**
 * Step 5, per environment, before its lock: may this release deploy there now? The state
 * machine goes on (`go`), waits until the environment opens and asks again (`wait`), or asks
 * two approvers (`approve`, emergencies only); otherwise this throws `DeployWindowClosed`.
 * When the environment also has `approval` in the config, `go` and `approve` carry
 * `promotion`: the machine then asks for that sign-off (kind `promotion`) before the lock —
 * after an emergency's approval too: the emergency opens a closed environment, the sign-off is
 * the environment's own routine, and one person may give both.
 *
 * Dot releases and hotfixes (hotfix-order.ts) are checked here too, first: a release older
 * than what the environment runs is refused (`VersionRegression`) unless it is an emergency,
 * whose two approvers then override it as they override a closed window; an environment on a
 * newer line is passed by (`skip`: the machine goes on to the next environment); a newer line
 * that may lack the release's fix makes it `approve` with kind `hotfix-order` (one of
 * `policy.approvers` acknowledges), or, when an emergency's approval is asked anyway, adds the
 * evidence to what its two approvers approve.
 *
 * The policy comes from the deployed config, not the release's snapshot, with the freezes
 * declared in the ledger (`tagflow freeze`, no deploy needed) merged into its `freezes`: a
 * freeze declared while a release waits applies to it at its next check.
 */

/** An environment's routine sign-off, as the approval Task needs it (computed here: ASL cannot multiply hours). */
export interface PromotionGate {
  needed: number;
  from: string[];
  /** The approval Task's TimeoutSecondsPath. */
  approvalTimeoutSeconds: number;
  /** The failure's cause when nobody approves in time. */
  timeoutReason: string;
}

export type PolicyCheck =
  | { action: 'go'; reason: string; promotion?: PromotionGate }
  | { action: 'skip'; reason: string }
  | { action: 'wait'; reason: string; until: string; waitingSince: string }
  | {
      action: 'approve';
      /** Which approval the machine asks for: an emergency's two approvers, or one acknowledgement of the hotfix order. */
      kind: 'emergency' | 'hotfix-order';
      reason: string;
      /** The approval Task's TimeoutSecondsPath. */
      approvalTimeoutSeconds: number;
      /** The failure's cause when nobody approves in time (the machine cannot compute it). */
      timeoutReason: string;
      promotion?: PromotionGate;
    };

export interface CheckPolicyInput {
  releaseId: string;
  executionId: string;
  release: ReleaseRequest;
  /** The environment being entered; `policy` is this step's previous answer after a wait. */
  stage: { environment: EnvironmentConfig; policy?: PolicyCheck };
  /** The vulnerability gate's verdict: an emergency's `override` of a failed gate is asked of its two approvers in every environment. */
  vulnerabilities?: { override?: VulnerabilityOverride } | null;
}

const HOUR_MS = 3_600_000;

/** A drift marked and not acknowledged keeps every release out of the environment (lambdas/lib/steps/detect-drift.ts). */
async function refuseDrifted(input: CheckPolicyInput, deps: Pick<Deps, 'ledger' | 'clock'>): Promise<void> {
  const { release } = input;
  const env = input.stage.environment.name;
  // The service's environments, one query (the hotfix check reads the same).
  const drift = (await deps.ledger.environments(release.service)).find((e) => e.environment === env)?.drift;
  if (!drift || drift.acknowledged) return;
  const summary =
    `${env} of ${release.service} has drifted since ${drift.detectedAt}: the ledger has ${drift.expected}; it serves ${drift.actual} (${drift.differences.join('; ')}). ` +
    `No release goes there until a person acknowledges it (tagflow drift --acknowledge --service ${release.service} --environment ${env} --reason "…") or a rollback restores a known state`;
  await decide(deps, release, { step: 'policy', environment: env, verdict: 'failed', summary, evidence: { drift } });
  throw new EnvironmentDrifted(summary);
}

export async function checkPolicy(input: CheckPolicyInput, deps: Pick<Deps, 'config' | 'ledger' | 'clock' | 'log'> & HotfixDeps & { approvals: Pick<ApprovalStore, 'get'> }): Promise<PolicyCheck> {
  const { release } = input;
  const env = input.stage.environment.name;
  const config = await deps.config();
  const configured = config.policy;
  const promotion = promotionGate(config, release, env);
  const order = config.services[release.service]?.environments.map((e) => e.name) ?? [];
  const hotfix = await hotfixOrder(input, order, deps, configured?.approvers ?? []);
  if (hotfix.skip) return hotfix.skip;
  await refuseDrifted(input, deps);
  const ledgerFreezes = (await deps.ledger.freezes()).filter((f) => f.unfrozenAt === undefined);
  const policy = withLedgerFreezes(configured ?? UNCONFIGURED_POLICY, ledgerFreezes, release.service);
  const now = deps.clock.now();
  // No policy and no ledger freeze: nothing to decide, so nothing is written (every environment of every release would get a line saying so).
  const unconfigured = !configured && ledgerFreezes.length === 0;
  const status = unconfigured ? { open: true as const, reason: `${env} is open: no deployment policy is configured` } : evaluatePolicy(now, env, policy);
  const overridable = new Set(policy.approvers).size >= REQUIRED_APPROVALS;
  const record = (verdict: 'passed' | 'waiting' | 'failed', summary: string, evidence: unknown) =>
    unconfigured ? Promise.resolve() : decide(deps, release, { step: 'policy', environment: env, verdict, summary, evidence }).then(() => undefined);
  const hours = policy.approvalTimeoutHours;
  const vulnerable = input.vulnerabilities?.override;
  if (vulnerable && (!release.emergency || !overridable)) {
    const summary = `${vulnerable.reason}. No override of the gate is possible here: ${release.emergency ? `policy.approvers lists ${new Set(policy.approvers).size} and an override needs ${REQUIRED_APPROVALS} different ones` : 'the release is not an emergency'}`;
    await record('failed', summary, { now: now.toISOString(), vulnerabilities: vulnerable.ids });
    throw new VulnerabilityGateFailed(summary, vulnerable.ids);
  }
  // What an emergency's approvers override besides a closed window: a regression, a failed vulnerability gate.
  const overrides = [hotfix.regression, vulnerable?.reason].filter((w): w is string => w !== undefined);
  const emergencyApproval = (why: string): PolicyCheck => ({
    action: 'approve',
    kind: 'emergency',
    reason: `${why}. Emergency release ("${release.emergency!.reason}"): ${REQUIRED_APPROVALS} different approvers of ${policy.approvers.join(', ')} must approve within ${hours} h${hotfix.unconfirmed ? `; they also acknowledge that ${hotfix.unconfirmed}` : ''}`,
    approvalTimeoutSeconds: approvalTimeoutSeconds(hours),
    timeoutReason: `the emergency release of ${release.service} ${release.version} into ${env} did not get ${REQUIRED_APPROVALS} different approvals within ${duration(hours)} (policy.approvalTimeoutHours); ${why}`,
    ...promotion,
  });

  if (status.open) {
    await record('passed', status.reason, { now: now.toISOString(), status });
    // An emergency that overrides a regression or the vulnerability gate asks its two approvers even in an open window.
    if (overrides.length) return emergencyApproval(overrides.join('; '));
    if (hotfix.unconfirmed) {
      return {
        action: 'approve',
        kind: 'hotfix-order',
        reason: `${hotfix.unconfirmed}. One of ${policy.approvers.join(', ')} must acknowledge it within ${hours} h`,
        approvalTimeoutSeconds: approvalTimeoutSeconds(hours),
        timeoutReason: `the release of ${release.service} ${release.version} into ${env} was not acknowledged within ${duration(hours)} (policy.approvalTimeoutHours): ${hotfix.unconfirmed}`,
        ...promotion,
      };
    }
    return { action: 'go', reason: status.reason, ...promotion };
  }

  if (release.emergency) {
    if (!overridable) {
      const summary = `${status.reason}. This is an emergency release ("${release.emergency.reason}"), but no emergency override is possible: policy.approvers lists ${policy.approvers.length} approvers and an override needs ${REQUIRED_APPROVALS} different ones`;
      await record('failed', summary, { now: now.toISOString(), status });
      throw new DeployWindowClosed(summary);
    }
    const check = emergencyApproval([status.reason, ...overrides].join('; '));
    await record('waiting', check.reason, { now: now.toISOString(), status, approvers: policy.approvers });
    return check;
  }

  // The wait is bounded from the first time this environment was found closed, not from each re-check.
  const previous = input.stage.policy;
  const waitingSince = previous?.action === 'wait' ? previous.waitingSince : now.toISOString();
  const deadline = Date.parse(waitingSince) + policy.maxWaitHours * HOUR_MS;
  if (status.opensAt && Date.parse(status.opensAt) <= deadline) {
    const hours = ((Date.parse(status.opensAt) - now.getTime()) / HOUR_MS).toFixed(1);
    const reason = `${status.reason}; waiting ${hours} h for it (policy.maxWaitHours: ${policy.maxWaitHours})`;
    await record('waiting', reason, { now: now.toISOString(), status, waitingSince });
    deps.log.info('waiting for the deployment policy', { service: release.service, version: release.version, environment: env, until: status.opensAt, reason: status.reason });
    return { action: 'wait', reason, until: status.opensAt, waitingSince };
  }

  const beyond = status.opensAt ? `, more than policy.maxWaitHours (${policy.maxWaitHours} h) after ${waitingSince}` : '';
  const override = overridable
    ? `an emergency release (input {"emergency":{"reason":"…"}}) approved by ${REQUIRED_APPROVALS} of ${policy.approvers.join(', ')} can override it`
    : `an emergency override needs ${REQUIRED_APPROVALS} approvers in policy.approvers, and none are configured`;
  const summary = `${status.reason}${beyond}. The release stops here; ${override}`;
  await record('failed', summary, { now: now.toISOString(), status, waitingSince });
  throw new DeployWindowClosed(summary);
}

/** What the hotfix check asks of the policy step: pass the environment by, override a regression, or acknowledge an unconfirmed order. */
interface HotfixOutcome {
  skip?: PolicyCheck;
  /** An emergency overrides it (checked: it has two approvers). */
  regression?: string;
  /** Which newer line lacks which commit, for a person to acknowledge. */
  unconfirmed?: string;
}

/**
 * Runs the hotfix check and records its decision (step `hotfix-order`); refuses a regression
 * that no emergency overrides, and an unconfirmed order that nobody could acknowledge.
 */
async function hotfixOrder(input: CheckPolicyInput, order: string[], deps: Pick<Deps, 'ledger' | 'clock'> & HotfixDeps & { approvals: Pick<ApprovalStore, 'get'> }, approvers: string[]): Promise<HotfixOutcome> {
  const { release } = input;
  const env = input.stage.environment.name;
  const facts: HotfixFacts = await hotfixFacts(release, env, order, deps);
  const { target, lines } = facts;
  const record = (verdict: 'passed' | 'waiting' | 'failed' | 'skipped', summary: string) =>
    decide(deps, release, { step: 'hotfix-order', environment: env, verdict, summary, evidence: { target, ...(lines ? { lines: lines.lines, fix: lines.fix } : {}) } });

  if (target.verdict === 'skip') {
    await record('skipped', target.reason);
    return { skip: { action: 'skip', reason: target.reason } };
  }
  let unconfirmed = lines?.verdict === 'unconfirmed' ? lines.reason : undefined;
  // Acknowledged in an earlier environment of this execution for the same evidence: not asked again.
  const acknowledged = unconfirmed ? await acknowledgedEarlier(deps, input, order.slice(0, order.indexOf(env)), unconfirmed) : undefined;
  if (acknowledged) unconfirmed = undefined;
  if (target.verdict === 'regression') {
    const enough = new Set(approvers).size >= REQUIRED_APPROVALS;
    if (!release.emergency || !enough) {
      const how = release.emergency
        ? `no emergency override is possible: policy.approvers lists ${approvers.length} and an override needs ${REQUIRED_APPROVALS} different ones`
        : `to force it, release it as an emergency (input {"emergency":{"reason":"…"}}, tagflow local release --emergency REASON), which ${REQUIRED_APPROVALS} of policy.approvers must approve`;
      const summary = `${release.service} ${release.version} is refused in ${env}: ${target.reason}. ${how}`;
      await record('failed', summary);
      throw new VersionRegression(summary);
    }
    await record('waiting', `${target.reason}; an emergency: its ${REQUIRED_APPROVALS} approvers may override it${unconfirmed ? `. Also: ${unconfirmed}` : ''}`);
    return { regression: `${target.reason}`, ...(unconfirmed ? { unconfirmed } : {}) };
  }
  if (!lines) return {};
  if (!unconfirmed) {
    await record('passed', acknowledged ? `${lines.reason}; acknowledged ${acknowledged}` : lines.reason);
    return {};
  }
  if (approvers.length === 0) {
    const summary = `${release.service} ${release.version} is held out of ${env}: ${unconfirmed}. Nobody can acknowledge it: policy.approvers is empty. Merge the fix into the newer line (and list its commits in that build's manifest), or add approvers`;
    await record('failed', summary);
    throw new VersionRegression(summary);
  }
  await record('waiting', `${unconfirmed}; waiting for one of ${approvers.join(', ')} to acknowledge it`);
  return { unconfirmed };
}

/**
 * Who acknowledged this same evidence earlier in this execution, and where ("by bob in dev"): a
 * hotfix-order request approved there, or an emergency whose approvers approved it with the
 * evidence in its request. Undefined when nobody did, or the evidence changed since.
 */
async function acknowledgedEarlier(deps: { approvals: Pick<ApprovalStore, 'get'> }, input: CheckPolicyInput, earlier: string[], evidence: string): Promise<string | undefined> {
  const { service, version } = input.release;
  for (const environment of earlier) {
    for (const kind of ['hotfix-order', 'emergency'] as const) {
      const r = await deps.approvals.get({ service, version, environment, kind });
      const covers = kind === 'hotfix-order' ? r?.reason.startsWith(evidence) : r?.closed?.includes(evidence);
      if (r && covers && r.status === 'approved' && r.executionId === input.executionId) return `by ${r.approvals.map((a) => a.approver).join(' and ')} in ${environment}`;
    }
  }
  return undefined;
}

/** The environment's `approval`, from the deployed config like the policy (absent: no sign-off). */
function promotionGate(config: Awaited<ReturnType<Deps['config']>>, release: ReleaseRequest, env: string): { promotion?: PromotionGate } {
  const index = config.services[release.service]?.environments.findIndex((e) => e.name === env) ?? -1;
  const approval = index < 0 ? undefined : config.services[release.service]!.environments[index]!.approval;
  if (!approval) return {};
  const { allowed, needed } = approversOf('promotion', config, { service: release.service, environment: env });
  const hours = approval.timeoutHours;
  return {
    promotion: {
      needed,
      from: allowed,
      approvalTimeoutSeconds: approvalTimeoutSeconds(hours),
      timeoutReason: `the promotion of ${release.service} ${release.version} into ${env} did not get ${needed} approval${needed === 1 ? '' : 's'} from ${allowed.join(', ')} within ${duration(hours)} (services.${release.service}.environments[${index}].approval.timeoutHours); nothing was deployed there`,
    },
  };
}

/** Hours as people read them: "24 h", "30 min", "3 s" (a test's timeout of 3/3600 h is not "0.000833 h"). */
function duration(hours: number): string {
  const round = (n: number) => Math.round(n * 100) / 100;
  if (hours >= 1) return `${round(hours)} h`;
  if (hours * 60 >= 1) return `${round(hours * 60)} min`;
  return `${round(hours * 3600)} s`;
}
