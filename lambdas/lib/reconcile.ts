import type { ServiceConfig } from './config.js';
import { decide, environmentsReached } from './decisions.js';
import { InvalidInput, LockLost, errorMessage } from './errors.js';
import { APPROVAL_KINDS } from './approval-kinds.js';
import type { CanaryArms, Deps, ExecutionStatus } from './ports.js';
import { nameMissingSummaries } from './steps/attest-environment.js';
import { targetFor } from './targets.js';
import type { EnvironmentState, OutcomeRecord, ReleaseRecord } from './types.js';


/** The error the rollback machine stops a running release with (rollback.asl.json, `Stop running release`). */
export const ROLLED_BACK = 'RolledBack';
/**
 * The reconciler: an execution that ended without running its own failure path (a person
 * pressed "Stop execution", it hit the machine's timeout, Step Functions failed it with
 * `States.Runtime`, or, locally, its process was killed) leaves behind what only its Catch
 * would have cleaned up. For that one execution this
 *
 *   1. removes the canary weight it left (all traffic back to the baseline it was judged against),
 *   2. releases every environment lock it still holds,
 *   3. records the release's outcome, `aborted`, with who/why Step Functions gives, and
 *   4. puts `Release Aborted` on the bus.
 *
 * Each part is conditional on the execution still owning what it touches (the lock's holder,
 * the release record's current attempt, the outcome written once per attempt), so running it
 * twice, late, or after a rollback took the environment over changes nothing more. In AWS a
 * rule on `Step Functions Execution Status Change` (event-rules.ts `executionEndedRule`)
 * invokes it; locally the runtime runs it when an execution stops and, at every start, for
 * executions whose process is gone.
 */

/** The statuses of an execution that ended without its own failure path having run for sure. */
export const RECONCILED_STATUSES = ['ABORTED', 'TIMED_OUT', 'FAILED'] as const satisfies readonly ExecutionStatus[];
export type ReconciledStatus = (typeof RECONCILED_STATUSES)[number];

/** One ended execution, as the `Step Functions Execution Status Change` event describes it. */
export interface EndedExecution {
  executionArn: string;
  stateMachineArn?: string;
  status: ReconciledStatus;
  /** ISO time it stopped (the event's `stopDate`). */
  stoppedAt: string;
  /** StopExecution's error (e.g. `RolledBack`), `States.Timeout`, `States.Runtime`…; null for a console stop without one. */
  error?: string;
  cause?: string;
}

export interface ReconcileReport {
  executionArn: string;
  status: ReconciledStatus;
  canariesRemoved: { service: string; environment: string; version: string; weight: number }[];
  locksReleased: { service: string; environment: string }[];
  /** The outcome this run recorded; absent when the release had one (its Catch ran, or an earlier reconcile). */
  outcome?: Pick<OutcomeRecord, 'releaseId' | 'outcome' | 'reason'>;
  /** Whether this run put `Release Aborted`. */
  emitted: boolean;
  /** What it left alone and why (another execution took the lock over, no config to find a target…). */
  notes: string[];
}

export type ReconcileDeps = Pick<Deps, 'ledger' | 'targets' | 'clock' | 'events' | 'log'> & Partial<Pick<Deps, 'approvals'>>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A date field of the event: epoch milliseconds (what Step Functions sends) or an ISO string. */
function isoOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return new Date(value).toISOString();
  return undefined;
}

/**
 * Reads a `Step Functions Execution Status Change` event (source `aws.states`):
 * `detail: { executionArn, stateMachineArn, name, status, startDate, stopDate, input, output,
 * error, cause }`, dates in epoch milliseconds, `error`/`cause` null when none was given.
 */
export function parseExecutionStatusChange(event: unknown, now: Date): EndedExecution {
  const issues: { field: string; problem: string }[] = [];
  const e = isObject(event) ? event : {};
  if (e.source !== 'aws.states') issues.push({ field: 'source', problem: `expected "aws.states", got ${JSON.stringify(e.source)}` });
  if (e['detail-type'] !== 'Step Functions Execution Status Change') issues.push({ field: 'detail-type', problem: `expected "Step Functions Execution Status Change", got ${JSON.stringify(e['detail-type'])}` });
  const d = isObject(e.detail) ? e.detail : {};
  if (typeof d.executionArn !== 'string' || !d.executionArn.startsWith('arn:')) issues.push({ field: 'detail.executionArn', problem: 'expected an execution ARN' });
  const status = d.status;
  if (!(RECONCILED_STATUSES as readonly unknown[]).includes(status)) issues.push({ field: 'detail.status', problem: `expected one of ${RECONCILED_STATUSES.join(', ')}, got ${JSON.stringify(status)}` });
  if (issues.length) throw new InvalidInput(issues);
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const error = text(d.error);
  const cause = text(d.cause);
  const stateMachineArn = text(d.stateMachineArn);
  return {
    executionArn: d.executionArn as string,
    ...(stateMachineArn ? { stateMachineArn } : {}),
    status: status as ReconciledStatus,
    stoppedAt: isoOf(d.stopDate) ?? isoOf(e.time) ?? now.toISOString(),
    ...(error ? { error } : {}),
    ...(cause ? { cause } : {}),
  };
}

/** What Step Functions said, for a person: `stopped (ABORTED): RolledBack: stopped by rollback …`. */
export function describeEnd(x: Pick<EndedExecution, 'status' | 'error' | 'cause'>): string {
  const what = x.status === 'ABORTED' ? 'stopped' : x.status === 'TIMED_OUT' ? 'timed out' : 'failed outside its Catch';
  const why = [x.error, x.cause].filter(Boolean).join(': ');
  return `${what} (${x.status})${why ? `: ${why}` : x.status === 'ABORTED' ? ': no error or cause given (a console "Stop execution" gives none unless typed in)' : ''}`;
}

function snapshotOf(release: ReleaseRecord | undefined): ServiceConfig | undefined {
  if (!release) return undefined;
  try {
    return JSON.parse(release.configSnapshot) as ServiceConfig;
  } catch {
    return undefined;
  }
}

/** Puts all traffic back on the baseline, through the target the release deployed with. */
async function removeCanary(state: EnvironmentState, service: ServiceConfig | undefined, deps: ReconcileDeps): Promise<string | undefined> {
  const canary = state.canary!;
  const envConfig = service?.environments.find((e) => e.name === state.environment);
  if (!service || !envConfig) return `no config snapshot names ${state.environment} of ${state.service}, so its target is unknown`;
  if (!state.version) return `the canary of ${canary.version} has no baseline recorded`;
  const target = targetFor(service, envConfig);
  const impl = deps.targets(target);
  const reused = canary.baselineRef && impl.reuse ? await impl.reuse({ service: state.service, environment: state.environment, version: state.version, target, ref: canary.baselineRef }) : undefined;
  if (!reused) {
    if (!impl.setCanaryWeight) return `target ${target.type} cannot move a canary's weight`;
    const arms: CanaryArms = { service: state.service, environment: state.environment, target, canary: { version: canary.version, ref: canary.ref }, baseline: { version: state.version, ...(canary.baselineRef ? { ref: canary.baselineRef } : {}) } };
    await impl.setCanaryWeight(arms, 0);
  }
  return undefined;
}

export async function reconcile(x: EndedExecution, deps: ReconcileDeps): Promise<ReconcileReport> {
  const report: ReconcileReport = { executionArn: x.executionArn, status: x.status, canariesRemoved: [], locksReleased: [], emitted: false, notes: [] };
  const now = () => deps.clock.now().toISOString();
  const ended = describeEnd(x);

  // The release this execution ran (its current attempt), if it was a release that got as far as its claim.
  let own: { release: ReleaseRecord; outcome?: OutcomeRecord } | undefined;
  const services = await deps.ledger.services();
  for (const service of services) {
    own ??= (await deps.ledger.releases(service)).find((r) => r.release.executionId === x.executionArn);
  }
  const config = snapshotOf(own?.release);

  for (const service of services) {
    for (const state of await deps.ledger.environments(service)) {
      if (state.lockHolder !== x.executionArn) continue;
      const at = { service, environment: state.environment };
      if (state.canary) {
        const canary = state.canary;
        let problem: string | undefined;
        try {
          problem = await removeCanary(state, state.service === own?.release.service ? config : undefined, deps);
        } catch (err) {
          problem = `moving the traffic back failed: ${errorMessage(err)}`;
        }
        if (problem) {
          // Keep the lock: the canary still takes traffic, and the next release must not deploy over it unseen.
          report.notes.push(`${service} ${state.environment}: the canary of ${canary.version} at ${canary.weight}% is left in place and locked (${problem})`);
          deps.log.error('reconcile: canary left in place', { ...at, executionArn: x.executionArn, problem });
          continue;
        }
        try {
          await deps.ledger.putEnvironment({ ...state, canary: null, updatedAt: now() }, x.executionArn);
        } catch (err) {
          if (!(err instanceof LockLost)) throw err;
          report.notes.push(`${service} ${state.environment}: taken over by another execution while reconciling; left to it`);
          continue;
        }
        report.canariesRemoved.push({ ...at, version: canary.version, weight: canary.weight });
        if (own) {
          await decide(deps, own.release, {
            step: 'reconcile',
            environment: state.environment,
            verdict: 'done',
            summary: `canary ${canary.version} removed from ${state.environment} at ${canary.weight}%; all traffic on ${state.version} — execution ${ended}`,
            evidence: { executionArn: x.executionArn, canary },
          });
        }
      }
      await deps.ledger.releaseLock(service, state.environment, x.executionArn);
      report.locksReleased.push(at);
    }
  }

  // A request for a person that this execution no longer waits on: expired, so an approver is told at once (410) instead of deciding nothing.
  if (own && config && deps.approvals) {
    for (const env of config.environments) {
      for (const kind of APPROVAL_KINDS) {
        const key = { service: own.release.service, version: own.release.version, environment: env.name, kind };
        const request = await deps.approvals.get(key);
        if (request?.status !== 'pending' || request.executionId !== x.executionArn) continue;
        if (await deps.approvals.transition(key, 'pending', 'expired', now())) report.notes.push(`the ${kind} request in ${env.name} expired: the execution no longer waits for it`);
      }
    }
  }

  // A release the rollback machine stopped (StopExecution with error RolledBack) gets its outcome
  // from that rollback (rolled-back, or failed when the rollback fails): not a second, "aborted", story.
  const stoppedByRollback = x.error === ROLLED_BACK;
  if (own && stoppedByRollback) report.notes.push(`stopped by a rollback, which records how ${own.release.releaseId} ended`);
  if (own && !stoppedByRollback && !(own.outcome && own.outcome.executionId === x.executionArn)) {
    const { release } = own;
    const decisions = await deps.ledger.decisions(release.service, release.version);
    const environments = environmentsReached(decisions);
    const record: OutcomeRecord = {
      releaseId: release.releaseId,
      service: release.service,
      version: release.version,
      outcome: 'aborted',
      reason: `the execution ${ended}${environments.length ? `; ${release.version} had reached ${environments.join(', ')}` : '; nothing was deployed'}`,
      error: x.error ?? `States.${x.status}`,
      environments,
      finishedAt: x.stoppedAt,
      executionId: x.executionArn,
    };
    if (await deps.ledger.recordOutcome(record)) {
      report.outcome = { releaseId: record.releaseId, outcome: record.outcome, reason: record.reason! };
      await deps.events.put([
        {
          Source: 'tagflow',
          DetailType: 'Release Aborted',
          Detail: { service: release.service, version: release.version, executionId: x.executionArn, status: x.status, error: record.error, reason: record.reason, environments, reconciledAt: now() },
        },
      ]);
      report.emitted = true;
    }
  }
  if (own) {
    const named = await nameMissingSummaries(deps, own.release, config, ended);
    if (named.length) report.notes.push(`no verification summary of ${own.release.version} in ${named.join(', ')}: the execution ended before it was written`);
  }
  deps.log.info('reconciled', { executionArn: x.executionArn, status: x.status, locks: report.locksReleased.length, canaries: report.canariesRemoved.length, outcome: report.outcome?.outcome });
  return report;
}
