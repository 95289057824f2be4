import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { decideApproval } from '../../lambdas/lib/approval-decision.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import type { ApprovalKey, ApprovalRecord, ApprovalStore, Ledger, TaskTokens } from '../../lambdas/lib/ports.js';
import type { Decision } from '../../lambdas/lib/types.js';

/** The approval decision core with an in-memory request store and task tokens that record what they were sent. */


export class MemoryApprovals implements ApprovalStore {
  readonly records = new Map<string, ApprovalRecord>();
  private id = (k: ApprovalKey) => `${k.service}/${k.version}/${k.environment}/${k.kind ?? 'emergency'}`;
  async request(r: Omit<ApprovalRecord, 'status' | 'approvals'>, opts = { keepApprovals: true }) {
    const before = this.records.get(this.id(r));
    const record: ApprovalRecord = { ...r, status: 'pending', approvals: opts.keepApprovals && before ? before.approvals : [] };
    this.records.set(this.id(r), record);
    return record;
  }
  async get(k: ApprovalKey) {
    const r = this.records.get(this.id(k));
    return r && structuredClone(r);
  }
  async addApproval(k: ApprovalKey, approver: string, at: string) {
    const r = this.records.get(this.id(k));
    if (!r || r.status !== 'pending' || r.approvals.some((a) => a.approver === approver)) return { added: false, record: r && structuredClone(r) };
    r.approvals.push({ approver, at });
    return { added: true, record: structuredClone(r) };
  }
  async transition(k: ApprovalKey, from: ApprovalRecord['status'], to: ApprovalRecord['status'], at: string, rejectedBy?: ApprovalRecord['rejectedBy']) {
    const r = this.records.get(this.id(k));
    if (!r || r.status !== from) return false;
    Object.assign(r, { status: to, decidedAt: at, ...(rejectedBy ? { rejectedBy } : {}) });
    return true;
  }
}

export function approvalFixture(opts: { tokens?: Partial<TaskTokens>; approvers?: string[]; githubLogins?: Record<string, string>; now?: string; initiator?: ApprovalRecord['initiator'] } = {}) {
  const config = parseConfig({
    services: { api: { environments: [{ name: 'prod' }] } },
    policy: { approvers: opts.approvers ?? ['alice', 'bob', 'carol'], githubLogins: opts.githubLogins ?? {}, freezes: [{ name: 'f', from: '2026-12-21T00:00:00Z', to: '2027-01-04T00:00:00Z' }] },
  });
  const approvals = new MemoryApprovals();
  const sent: { kind: 'succeed' | 'fail'; token: string; output?: unknown; error?: string; cause?: string }[] = [];
  const decisions: Decision[] = [];
  const deps = {
    config: async () => config,
    approvals,
    taskTokens: {
      succeed: async (token: string, output: unknown) => void sent.push({ kind: 'succeed', token, output }),
      fail: async (token: string, error: string, cause: string) => void sent.push({ kind: 'fail', token, error, cause }),
      ...opts.tokens,
    } as TaskTokens,
    ledger: { recordDecision: async (d: Decision) => void decisions.push(d) } as unknown as Ledger,
    clock: { now: () => new Date(opts.now ?? '2026-12-22T10:00:00Z'), sleep: async () => {} },
    log: silentLogger,
  };
  const target = { service: 'api', version: 'v1.2.3', environment: 'prod' };
  const requestIt = () =>
    approvals.request({ ...target, releaseId: 'api@v1.2.3', executionId: 'exec-1', taskToken: 'token-1', reason: 'outage', closed: 'prod is closed', requestedAt: '2026-12-22T09:59:00Z', expiresAt: '2026-12-23T09:59:00Z', ...(opts.initiator ? { initiator: opts.initiator } : {}) });
  const holdIt = (token = 'hold-token-1') =>
    approvals.request(
      { ...target, kind: 'canary-hold', releaseId: 'api@v1.2.3', executionId: 'exec-1', taskToken: token, reason: 'canary v1.2.3 still inconclusive', hold: { weight: 10, step: 1, evidence: { poll: 15 } }, requestedAt: '2026-12-22T09:59:30Z', expiresAt: '2026-12-23T09:59:30Z' },
      { keepApprovals: false },
    );
  const decideAs = (approver: string, decision: 'approve' | 'reject' | 'promote' | 'rollback' = 'approve', comment?: string) => decideApproval({ ...target, approver, decision, ...(comment ? { comment } : {}) }, deps);
  return { deps, approvals, sent, decisions, target, requestIt, holdIt, decideAs };
}

