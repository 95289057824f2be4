import { REQUIRED_APPROVALS } from './policy-constants.js';

/**
 * The two things a release can wait on a person for, through the one approval mechanism
 * (a waitForTaskToken Task, a request in the ledger, a decision from `policy.approvers`):
 *
 * - `emergency`: a release into an environment the policy keeps closed; two different
 *   approvers must approve, one reject stops it (`ApprovalRejected`);
 * - `canary-hold`: a canary still inconclusive at its bake bound with `onInconclusive: "hold"`;
 *   one decision from any approver: promote (= approve: the canary loop goes on) or roll back
 *   (= reject: `CanaryRejected`, the environment is rolled back like a failed canary).
 *
 * The rules differ only in what is listed here, so the decision core stays one piece.
 */

export type ApprovalKind = 'emergency' | 'canary-hold';
export const APPROVAL_KINDS: readonly ApprovalKind[] = ['emergency', 'canary-hold'];

/** What an approver may send: approve/reject for either kind; promote/rollback name the canary hold's meaning. */
export type ApprovalDecisionWord = 'approve' | 'reject' | 'promote' | 'rollback';

export interface ApprovalRules {
  /** Distinct approvers it takes to approve. */
  needed: number;
  /** The decision words that mean approve and reject for this kind (what the event and messages say). */
  approveWord: 'approve' | 'promote';
  rejectWord: 'reject' | 'rollback';
  /** Past tense, for messages: "alice approved …", "alice promoted …". */
  approved: string;
  rejected: string;
  /** The error the waiting Task fails with on a reject: the state machine's Catch routes on it. */
  rejectError: 'ApprovalRejected' | 'CanaryRejected';
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
};

/** Records written before kinds existed are emergencies. */
export const kindOf = (r: { kind?: ApprovalKind | undefined }): ApprovalKind => r.kind ?? 'emergency';

/** Which kinds a decision word can decide: promote/rollback only a canary hold; approve/reject either. */
export function kindsDecidedBy(word: ApprovalDecisionWord): ApprovalKind[] {
  return word === 'promote' || word === 'rollback' ? ['canary-hold'] : [...APPROVAL_KINDS];
}

export const isApproval = (word: ApprovalDecisionWord): boolean => word === 'approve' || word === 'promote';
