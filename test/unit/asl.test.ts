import { describe, expect, it } from 'vitest';
import { StateMachine } from 'aws-local-stepfunctions';
import { RELEASE_TIMEOUT_HOURS } from '../../lambdas/lib/policy-constants.js';
import { STEP_NAMES, placeholderOf } from '../../lambdas/steps.js';
import { placeholders, readAsl, substitute, taskStates, type MachineName } from '../../local/runtime/asl.js';
import { localSubstitutions } from '../../local/runtime/runtime.js';

/** The ASL files are the one definition; these are the rules every state in them keeps. */

type State = { Type: string; Resource?: string; TimeoutSeconds?: number; TimeoutSecondsPath?: string; Parameters?: { FunctionName?: string }; Retry?: { ErrorEquals: string[] }[]; Catch?: { Next: string }[]; Next?: string; Default?: string; Choices?: { Next: string }[]; End?: boolean };
const machines: MachineName[] = ['release', 'rollback'];
const definition = (m: MachineName) => JSON.parse(readAsl(m)) as { StartAt: string; States: Record<string, State> };

describe('release.asl.json timeout', () => {
  it('is the budget the config\'s policy waits are checked against', () => {
    expect((JSON.parse(readAsl('release')) as { TimeoutSeconds: number }).TimeoutSeconds).toBe(RELEASE_TIMEOUT_HOURS * 3600);
  });

  it('waits for approvals with a Task whose timeout comes from the policy check and whose timeout becomes a named failure', () => {
    const states = definition('release').States as Record<string, State & { Catch?: { ErrorEquals: string[]; Next: string }[] }>;
    const gate = states['Request approval']!;
    expect(gate.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(gate.Parameters?.FunctionName).toBe('${RequestApprovalFnArn}');
    expect(gate.TimeoutSecondsPath).toBe('$.Payload.request.approvalTimeoutSeconds');
    expect(gate.Catch?.[0]).toMatchObject({ ErrorEquals: ['States.Timeout'], Next: 'Approval timed out' });
    // Approved or not, what the ledger holds decides: a token answered by hand fails here.
    expect(gate.Next).toBe('Verify approval');
    expect(states['Verify approval']).toMatchObject({ Resource: '${VerifyApprovalFnArn}', Parameters: { 'request.$': '$.stage.approvalRequest.Payload.request' }, Next: 'Promotion approval', Catch: [expect.objectContaining({ Next: 'Record failure' })] });
  });

  it("asks an environment's routine sign-off through the same Request and Verify approval states, after the policy and before the lock", () => {
    const states = definition('release').States as Record<string, State & { Parameters?: { Payload?: { request?: Record<string, unknown> }; 'Cause.$'?: string } }>;
    expect(states['Deploy policy']!.Default).toBe('Promotion approval');
    const gate = states['Promotion approval']!;
    expect(gate.Choices).toEqual([expect.objectContaining({ Next: 'Acquire environment lock' }), expect.objectContaining({ Variable: '$.stage.policy.promotion', IsPresent: true, Next: 'Prepare promotion request' })]);
    expect(gate.Default).toBe('Acquire environment lock');
    // Both requests carry the timeout and its cause where the one approval Task reads them.
    for (const [name, policy] of [['Prepare approval request', '$.stage.policy'], ['Prepare promotion request', '$.stage.policy.promotion']] as const) {
      expect(states[name]!.Parameters!.Payload!.request).toMatchObject({ 'approvalTimeoutSeconds.$': `${policy}.approvalTimeoutSeconds`, 'timeoutReason.$': `${policy}.timeoutReason` });
      expect(states[name]!.Next).toBe('Request approval');
    }
    expect(states['Prepare promotion request']!.Parameters!.Payload!.request).toMatchObject({ kind: 'promotion' });
    expect(states['Approval timed out']!.Parameters!['Cause.$']).toBe('$.stage.approvalRequest.Payload.request.timeoutReason');
  });

  it('holds an inconclusive canary through the same approval function, and rolls back on a rollback decision or no decision', () => {
    const states = definition('release').States as Record<string, State & { Catch?: { ErrorEquals: string[]; Next: string }[]; Parameters?: Record<string, unknown> }>;
    expect(states['Canary verdict']!.Choices).toContainEqual(expect.objectContaining({ StringEquals: 'hold', Next: 'Prepare canary hold' }));
    expect(states['Prepare canary hold']!.Parameters).toMatchObject({ Payload: { request: { kind: 'canary-hold', 'hold.$': '$.stage.canary.hold' } } });
    const hold = states['Hold canary']!;
    expect(hold.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(hold.Parameters?.FunctionName).toBe(states['Request approval']!.Parameters?.FunctionName);
    expect(hold.TimeoutSecondsPath).toBe('$.Payload.request.hold.approvalTimeoutSeconds');
    // A promote is verified against the ledger before the canary shifts on.
    expect(hold.Next).toBe('Verify canary hold');
    // A rollback goes through the one choice that holds instead once a migration ran here.
    expect(states['Verify canary hold']).toMatchObject({ Resource: '${VerifyApprovalFnArn}', Next: 'Shift canary traffic', Catch: [expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Roll back or hold' })] });
    expect(hold.Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['States.Timeout'], Next: 'Canary hold timed out' }),
      expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Roll back or hold' }),
    ]);
    expect(states['Canary hold timed out']).toMatchObject({ Parameters: { Error: 'CanaryHoldTimedOut' }, Next: 'Roll back or hold' });
  });

  it('reaches "Roll back environment" only through the choice that holds after a migration, or a verified rollback decision', () => {
    const states = definition('release').States as Record<string, State & { Catch?: { Next: string }[] }>;
    const into = Object.entries(states).flatMap(([name, s]) => [s.Next, ...(s.Catch ?? []).map((c) => c.Next), ...((s as { Choices?: { Next: string }[] }).Choices ?? []).map((c) => c.Next), (s as { Default?: string }).Default].filter((n) => n === 'Roll back environment').map(() => name));
    expect([...new Set(into)].sort()).toEqual(['Roll back or hold', 'Verify migration rollback']);
    const hold = states['Hold after migration']! as State & { Catch: { ErrorEquals: string[]; Next: string }[] };
    // No decision, or a failure of the approval itself, keeps what serves: never a blind rollback.
    expect(hold.Catch.map((c) => c.Next)).toEqual(['Verify migration rollback', 'Migration hold timed out', 'Kept after migration']);
    expect(hold.Next).toBe('Kept after migration');
  });
});

describe.each(machines)('%s.asl.json', (machine) => {
  const def = definition(machine);

  it('is valid ASL once substituted, as the interpreter (and CloudFormation) sees it', () => {
    expect(() => new StateMachine(JSON.parse(substitute(readAsl(machine), localSubstitutions())))).not.toThrow();
  });

  it('names only Lambda steps that exist, through their placeholders', () => {
    const known = new Set([...STEP_NAMES.map(placeholderOf), 'EventBusName']);
    expect(placeholders(readAsl(machine)).filter((p) => !known.has(p))).toEqual([]);
    for (const { resource } of taskStates(def)) {
      expect(resource.startsWith('${') || resource.startsWith('arn:aws:states:::')).toBe(true);
    }
  });

  it('gives every Task a timeout and retries transient Lambda failures on every Lambda Task', () => {
    for (const [name, s] of Object.entries(def.States)) {
      if (s.Type !== 'Task') continue;
      // TimeoutSecondsPath: a timeout from the config (the approval gate's approvalTimeoutHours).
      if (s.TimeoutSecondsPath === undefined) expect(s.TimeoutSeconds, `${name} has no TimeoutSeconds`).toBeGreaterThan(0);
      expect(s.Retry?.length, `${name} has no Retry`).toBeGreaterThan(0);
      const invokesLambda = s.Resource?.startsWith('${') || s.Resource?.startsWith('arn:aws:states:::lambda:invoke');
      if (invokesLambda) {
        const retried = s.Retry!.flatMap((r) => r.ErrorEquals);
        for (const e of ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', 'DependencyUnavailable']) expect(retried, `${name} does not retry ${e}`).toContain(e);
      }
    }
  });

  it('has no dangling transitions and no unreachable states', () => {
    const names = new Set(Object.keys(def.States));
    const reachable = new Set<string>();
    const visit = (n: string) => {
      if (reachable.has(n)) return;
      expect(names.has(n), `transition to missing state ${n}`).toBe(true);
      reachable.add(n);
      const s = def.States[n]!;
      for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next), ...(s.Catch ?? []).map((c) => c.Next)]) if (next) visit(next);
    };
    visit(def.StartAt);
    expect([...names].filter((n) => !reachable.has(n))).toEqual([]);
  });

  it('ends every failure path in a Fail state that carries the error name', () => {
    for (const [name, s] of Object.entries(def.States)) {
      if (s.Type === 'Fail') expect((s as { ErrorPath?: string }).ErrorPath, `${name} drops the error name`).toBeDefined();
    }
  });
});
