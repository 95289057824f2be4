import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../lambdas/lib/event-pattern.js';
import { executionEndedRule } from '../../lambdas/lib/event-rules.js';
import { describeEnd, parseExecutionStatusChange } from '../../lambdas/lib/reconcile.js';

const RELEASE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tagflow-Release';
const ROLLBACK = 'arn:aws:states:eu-west-1:123456789012:stateMachine:tagflow-Rollback';

/** A `Step Functions Execution Status Change` event as Step Functions puts it on the default bus (dates in epoch ms; error/cause null when none). */
const event = (detail: Record<string, unknown>) => ({
  version: '0',
  id: '315c1398-40ff-a850-213b-158f73e60175',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: '123456789012',
  time: '2026-11-30T10:00:05Z',
  region: 'eu-west-1',
  resources: ['arn:aws:states:eu-west-1:123456789012:execution:tagflow-Release:run-1'],
  detail: {
    executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:tagflow-Release:run-1',
    stateMachineArn: RELEASE,
    name: 'run-1',
    status: 'ABORTED',
    startDate: 1796032800000,
    stopDate: 1796032805123,
    input: '{"service":"checkout","version":"v2.4.0"}',
    inputDetails: { included: true },
    output: null,
    outputDetails: null,
    error: null,
    cause: null,
    ...detail,
  },
});

describe('execution-ended rule (one pattern for the stack and the local runtime)', () => {
  const rule = executionEndedRule([RELEASE, ROLLBACK]);
  it('matches the pipeline machines\' executions that were stopped, timed out or failed', () => {
    for (const status of ['ABORTED', 'TIMED_OUT', 'FAILED']) expect(matchesPattern(rule.pattern, event({ status })), status).toBe(true);
    expect(matchesPattern(rule.pattern, event({ stateMachineArn: ROLLBACK }))).toBe(true);
  });
  it('ignores running and succeeded executions, other machines, and other sources', () => {
    for (const status of ['RUNNING', 'SUCCEEDED', 'PENDING_REDRIVE']) expect(matchesPattern(rule.pattern, event({ status })), status).toBe(false);
    expect(matchesPattern(rule.pattern, event({ stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:someone-elses' }))).toBe(false);
    expect(matchesPattern(rule.pattern, { ...event({}), source: 'tagflow' })).toBe(false);
  });
  it('refuses to be built without a machine (it would match every machine in the account)', () => {
    expect(() => executionEndedRule([])).toThrow(/at least one state machine/);
  });
});

describe('parseExecutionStatusChange', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  it('reads the ARN, the status, stopDate (epoch ms) and StopExecution\'s error and cause', () => {
    expect(parseExecutionStatusChange(event({ error: 'RolledBack', cause: 'stopped by rollback arn:…: alarm' }), now)).toEqual({
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:tagflow-Release:run-1',
      stateMachineArn: RELEASE,
      status: 'ABORTED',
      stoppedAt: new Date(1796032805123).toISOString(),
      error: 'RolledBack',
      cause: 'stopped by rollback arn:…: alarm',
    });
  });
  it('a console stop without error or cause: none, and the description says so', () => {
    const x = parseExecutionStatusChange(event({}), now);
    expect(x.error).toBeUndefined();
    expect(x.cause).toBeUndefined();
    expect(describeEnd(x)).toMatch(/^stopped \(ABORTED\): no error or cause given/);
  });
  it('a timeout and a States.Runtime failure', () => {
    expect(describeEnd(parseExecutionStatusChange(event({ status: 'TIMED_OUT', error: 'States.Timeout' }), now))).toBe('timed out (TIMED_OUT): States.Timeout');
    expect(describeEnd(parseExecutionStatusChange(event({ status: 'FAILED', error: 'States.Runtime', cause: "An error occurred while executing the state 'Deploy'" }), now))).toBe("failed outside its Catch (FAILED): States.Runtime: An error occurred while executing the state 'Deploy'");
  });
  it('falls back to the envelope time when stopDate is missing', () => {
    expect(parseExecutionStatusChange(event({ stopDate: null }), now).stoppedAt).toBe('2026-11-30T10:00:05.000Z');
  });
  it('names the field of an event that is not one it reconciles', () => {
    expect(() => parseExecutionStatusChange(event({ status: 'SUCCEEDED' }), now)).toThrow(/detail\.status: expected one of ABORTED, TIMED_OUT, FAILED, got "SUCCEEDED"/);
    expect(() => parseExecutionStatusChange({ ...event({}), source: 'tagflow' }, now)).toThrow(/source: expected "aws\.states"/);
    expect(() => parseExecutionStatusChange(event({ executionArn: 42 }), now)).toThrow(/detail\.executionArn/);
  });
});
