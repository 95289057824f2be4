import type { EnvironmentApproval } from './approval-config.js';
import { REQUIRED_APPROVALS } from './policy-constants.js';

/**
 * The things a release can wait on a person for, through the one approval mechanism
 * (a waitForTaskToken Task, a request in the ledger, a decision from the kind's approvers):
 *
 * - `emergency`: a release into an environment the policy keeps closed; two different
 *   approvers must approve, one reject stops it (`ApprovalRejected`);
 * - `canary-hold`: a canary still inconclusive at its bake bound with `onInconclusive: "hold"`;
 *   one decision from any approver: promote (= approve: the canary loop goes on) or roll back
 *   (= reject: `CanaryRejected`, the environment is rolled back like a failed canary);
 * - `promotion`: an environment with `approval` in its config (a routine sign-off before
 *   every deploy there); `approval.needed` different people of `approval.from` approve, one
 *   reject stops the release before anything is deployed there (`ApprovalRejected`), and the
 *   person who caused the release may not approve it;
 * - `hotfix-order`: a release of an older line (a dot release, `v1.100.1`) while a newer line
 *   runs somewhere, and that newer line's build is not known to contain the fix
 *   (hotfix-order.ts); one of `policy.approvers` acknowledges it (approve) or stops it
 *   (reject, `ApprovalRejected`); not the person who caused the release.
 * * - `migration-hold`: a release that failed in an environment after a migration ran there
 *   (migrations-config.ts); one of `policy.approvers` keeps what serves (promote) or rolls the
 *   code back anyway (rollback, `MigrationRollbackChosen`); no decision keeps what serves.
 *
 * The rules differ only in what is listed here, so the decision core stays one piece.
 */

export type ApprovalKind = 'emergency' | 'canary-hold' | 'promotion' | 'hotfix-order' | 'migration-hold';
export const APPROVAL_KINDS: readonly ApprovalKind[] = ['emergency', 'canary-hold', 'promotion', 'hotfix-order', 'migration-hold'];

/** What an approver may send: approve/reject for either kind; promote/rollback name the canary hold's meaning. */
export type ApprovalDecisionWord = 'approve' | 'reject' | 'promote' | 'rollback';

export interface ApprovalRules {
  /** Distinct approvers it takes to approve (a promotion: its environment's `approval.needed`, see `approversOf`). */
  needed: number;
  /** The decision words that mean approve and reject for this kind (what the event and messages say). */
  approveWord: 'approve' | 'promote';
  rejectWord: 'reject' | 'rollback';
  /** Past tense, for messages: "alice approved …", "alice promoted …". */
  approved: string;
  rejected: string;
  /** The error the waiting Task fails with on a reject: the state machine's Catch routes on it. */
  rejectError: 'ApprovalRejected' | 'CanaryRejected' | 'MigrationRollbackChosen';
  /**
   * Whether a repeated request from the same execution keeps the approvals given so far: an
   * emergency's first approval survives a retried request; a canary holds afresh at each step,
   * and one decision decides it, so a new hold never inherits the last one's decision.
   */
  keepsApprovals: boolean;
  /** Whether the person who caused the release may decide it (never for an emergency: the second pair of eyes must be another's). */
  initiatorMayDecide: boolean;
  what(key: { service: string; version: string; environment: string }): string;
}

export const RULES: Record<ApprovalKind, ApprovalRules> = {
  emergency: {
    needed: REQUIRED_APPROVALS,
    approveWord: 'approve',
    rejectWord: 'reject',
    approved: 'approved',
    rejected: 'rejected',
    rejectError: 'ApprovalRejected',
    keepsApprovals: true,
    initiatorMayDecide: false,
    what: (k) => `the emergency release of ${k.service} ${k.version} into ${k.environment}`,
  },
  'canary-hold': {
    needed: 1,
    approveWord: 'promote',
    rejectWord: 'rollback',
    approved: 'promoted',
    rejected: 'rolled back',
    rejectError: 'CanaryRejected',
    keepsApprovals: false,
    initiatorMayDecide: true,
    what: (k) => `the held canary of ${k.service} ${k.version} in ${k.environment}`,
  },
  promotion: {
    needed: 1,
    approveWord: 'approve',
    rejectWord: 'reject',
    approved: 'approved',
    rejected: 'rejected',
    rejectError: 'ApprovalRejected',
    // A retried request of the same execution keeps what was given; a new execution's request starts over (approvals.request).
    keepsApprovals: true,
    initiatorMayDecide: false,
    what: (k) => `the promotion of ${k.service} ${k.version} into ${k.environment}`,
  },
  // A release that failed in an environment past its migration (migrations-config.ts): keep what
  // serves (promote, and no decision) or roll the code back anyway (rollback), which the
  // machine verifies before it acts, since here the rollback is the risky side.
  'migration-hold': {
    needed: 1,
    approveWord: 'promote',
    rejectWord: 'rollback',
    approved: 'kept',
    rejected: 'chose to roll back',
    rejectError: 'MigrationRollbackChosen',
    keepsApprovals: false,
    initiatorMayDecide: true,
    what: (k) => `the failed release of ${k.service} ${k.version} in ${k.environment}, held after its migration`,
  },
  'hotfix-order': {
    needed: 1,
    approveWord: 'approve',
    rejectWord: 'reject',
    approved: 'acknowledged',
    rejected: 'rejected',
    rejectError: 'ApprovalRejected',
    keepsApprovals: true,
    initiatorMayDecide: false,
    what: (k) => `the release of ${k.service} ${k.version} into ${k.environment} ahead of a newer line that may lack its fix`,
  },
};

/** Who may decide a request of `kind`, and how many of them it takes; `field` names where the config says so. */
export interface Approvers {
  allowed: string[];
  needed: number;
  field: string;
}

/** The config parts `approversOf` reads (the whole PipelineConfig fits). */
export interface ApproversConfig {
  policy?: { approvers: string[] } | undefined;
  services: Record<string, { environments: { name: string; approval?: EnvironmentApproval | undefined }[] }>;
}

/**
 * Who may decide now, from the deployed config (as for the policy: removing someone takes
 * effect at once): `policy.approvers` for an emergency or a canary hold; the environment's
 * `approval.from` for a promotion. An environment whose approval was removed since the request
 * has nobody, so its request can only time out (fail safe).
 */
export function approversOf(kind: ApprovalKind, config: ApproversConfig, key: { service: string; environment: string }): Approvers {
  if (kind !== 'promotion') return { allowed: config.policy?.approvers ?? [], needed: RULES[kind].needed, field: 'policy.approvers' };
  const environments = config.services[key.service]?.environments ?? [];
  const index = environments.findIndex((e) => e.name === key.environment);
  const approval = environments[index]?.approval;
  const field = `services.${key.service}.environments[${index < 0 ? '?' : index}].approval.from`;
  return approval ? { allowed: approval.from, needed: approval.needed, field } : { allowed: [], needed: 1, field };
}

/** Records written before kinds existed are emergencies. */
export const kindOf = (r: { kind?: ApprovalKind | undefined }): ApprovalKind => r.kind ?? 'emergency';

/** Which kinds a decision word can decide: promote/rollback only a canary hold; approve/reject either. */
export function kindsDecidedBy(word: ApprovalDecisionWord): ApprovalKind[] {
  return word === 'promote' || word === 'rollback' ? ['canary-hold'] : [...APPROVAL_KINDS];
}

export const isApproval = (word: ApprovalDecisionWord): boolean => word === 'approve' || word === 'promote';
