import 'aws-sdk-client-mock-vitest/extend';
import { readFileSync } from 'node:fs';
import { CloudWatchClient, ListTagsForResourceCommand, ResourceNotFoundException } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { CloudWatchAlarmTags } from '../../lambdas/adapters/cloudwatch-alarm-tags.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { DependencyUnavailable } from '../../lambdas/lib/errors.js';
import { validatePattern, matchesPattern } from '../../lambdas/lib/event-pattern.js';
import { alarmRule, eventRules } from '../../lambdas/lib/event-rules.js';
import type { AlarmTags } from '../../lambdas/lib/ports.js';
import { alarmArnOf } from '../../lambdas/lib/rollback-input.js';
import { normaliseRollback } from '../../lambdas/lib/steps/normalise-rollback.js';

/**
 * Alarm routing: the alarm-to-rollback rule (what EventBridge lets through), and the tags of an
 * alarm whose event carries none (CloudWatch adds `detail.alarmTags` only with
 * AlarmTagsPropagation), read with ListTagsForResource.
 */

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());

const ARN = 'arn:aws:cloudwatch:eu-west-1:111122223333:alarm:checkout-prod-latency';
const CONFIG = parseConfig({
  services: {
    checkout: {
      target: { type: 'lambda-alias', functionName: '{service}-{environment}' },
      environments: [{ name: 'staging' }, { name: 'prod', alarms: ['checkout-prod-errors'] }],
    },
  },
});

/** A `CloudWatch Alarm State Change` as EventBridge delivers it (examples/events/alarm-state-alarm.json), renamed. */
function alarmEvent(name: string, opts: { value?: string; alarmTags?: Record<string, string> } = {}): Record<string, any> {
  const e = JSON.parse(readFileSync(new URL('../../examples/events/alarm-state-alarm.json', import.meta.url), 'utf8'));
  e.region = 'eu-west-1';
  e.account = '111122223333';
  e.resources = [`arn:aws:cloudwatch:eu-west-1:111122223333:alarm:${name}`];
  e.detail.alarmName = name;
  e.detail.state.value = opts.value ?? 'ALARM';
  if (opts.alarmTags) Object.assign(e.detail, { alarmTags: opts.alarmTags, alarmTagsStatus: 'SUCCESS' });
  return e;
}

describe('CloudWatchAlarmTags (ListTagsForResource)', () => {
  it('asks for the alarm ARN and returns its tags by key', async () => {
    cw.on(ListTagsForResourceCommand).resolves({
      $metadata: { httpStatusCode: 200, requestId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111', attempts: 1, totalRetryDelay: 0 },
      Tags: [
        { Key: 'tagflow:service', Value: 'checkout' },
        { Key: 'tagflow:environment', Value: 'prod' },
        { Key: 'team', Value: 'payments' },
      ],
    });
    await expect(new CloudWatchAlarmTags(new CloudWatchClient({ region: 'eu-west-1' })).tagsOf(ARN)).resolves.toEqual({ 'tagflow:service': 'checkout', 'tagflow:environment': 'prod', team: 'payments' });
    expect(cw).toHaveReceivedCommandWith(ListTagsForResourceCommand, { ResourceARN: ARN });
    expect(cw).toHaveReceivedCommandTimes(ListTagsForResourceCommand, 1);
  });

  it('an alarm without tags has none; a deleted alarm is undefined; throttling is DependencyUnavailable (retried by the state machine)', async () => {
    const tags = new CloudWatchAlarmTags(new CloudWatchClient({ region: 'eu-west-1', maxAttempts: 1 }));
    cw.on(ListTagsForResourceCommand).resolvesOnce({ Tags: [] }).rejectsOnce(new ResourceNotFoundException({ message: 'Alarm checkout-prod-latency does not exist', $metadata: { httpStatusCode: 404 } }));
    await expect(tags.tagsOf(ARN)).resolves.toEqual({});
    await expect(tags.tagsOf(ARN)).resolves.toBeUndefined();
    cw.on(ListTagsForResourceCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }));
    await expect(tags.tagsOf(ARN)).rejects.toBeInstanceOf(DependencyUnavailable);
  });
});

describe('normalise-rollback with an alarm event', () => {
  const run = (input: unknown, port?: AlarmTags) => normaliseRollback({ input, executionId: 'arn:aws:states:eu-west-1:111122223333:execution:rollback:x' }, CONFIG, port);
  const port = (tags: Record<string, string> | undefined | Error): AlarmTags & { tagsOf: ReturnType<typeof vi.fn> } => ({
    tagsOf: vi.fn(async () => {
      if (tags instanceof Error) throw tags;
      return tags;
    }),
  });

  it('without tags in the event, reads them and rolls back the environment they name', async () => {
    const p = port({ 'tagflow:service': 'checkout', 'tagflow:environment': 'staging' });
    await expect(run(alarmEvent('checkout-staging-latency'), p)).resolves.toMatchObject({ action: 'rollback', service: 'checkout', environment: 'staging', trigger: { kind: 'alarm', detail: 'checkout-staging-latency' } });
    expect(p.tagsOf).toHaveBeenCalledWith('arn:aws:cloudwatch:eu-west-1:111122223333:alarm:checkout-staging-latency');
  });

  it('tags in the event (AlarmTagsPropagation) are used as they are: no lookup', async () => {
    const p = port(new Error('must not be called'));
    await expect(run(alarmEvent('checkout-staging-latency', { alarmTags: { 'tagflow:service': 'checkout', 'tagflow:environment': 'staging' } }), p)).resolves.toMatchObject({ action: 'rollback', environment: 'staging' });
    expect(p.tagsOf).not.toHaveBeenCalled();
  });

  it('an alarm the config lists still rolls back when its tags cannot be read', async () => {
    const denied = Object.assign(new Error('not authorized to perform: cloudwatch:ListTagsForResource'), { name: 'AccessDenied' });
    await expect(run(alarmEvent('checkout-prod-errors'), port(denied))).resolves.toMatchObject({ action: 'rollback', service: 'checkout', environment: 'prod' });
    await expect(run(alarmEvent('checkout-prod-errors'), port(undefined))).resolves.toMatchObject({ action: 'rollback', environment: 'prod' });
  });

  it('an alarm nothing routes is ignored with why; one whose tags could not be read fails instead of being ignored', async () => {
    await expect(run(alarmEvent('billing-cpu'), port({ team: 'billing' }))).resolves.toEqual({ action: 'ignore', reason: expect.stringContaining('alarm billing-cpu has no tagflow:service/tagflow:environment tags') });
    await expect(run(alarmEvent('billing-cpu'), port(new DependencyUnavailable('CloudWatch ListTagsForResource failed after retries')))).rejects.toBeInstanceOf(DependencyUnavailable);
  });

  it('reads nothing for an alarm going to OK, nor without the port (the local runtime routes by the config)', async () => {
    const p = port({ 'tagflow:service': 'checkout', 'tagflow:environment': 'staging' });
    await expect(run(alarmEvent('checkout-staging-latency', { value: 'OK' }), p)).resolves.toMatchObject({ action: 'ignore' });
    expect(p.tagsOf).not.toHaveBeenCalled();
    await expect(run(alarmEvent('checkout-prod-errors'))).resolves.toMatchObject({ action: 'rollback', environment: 'prod' });
  });

  it('the alarm ARN comes from the event\'s resources, else from its region, account and name', () => {
    expect(alarmArnOf(alarmEvent('a') as never)).toBe('arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a');
    const bare = { ...alarmEvent('b'), resources: [] };
    expect(alarmArnOf(bare as never)).toBe('arn:aws:cloudwatch:eu-west-1:111122223333:alarm:b');
    expect(alarmArnOf({ ...bare, region: 'cn-north-1' } as never)).toBe('arn:aws-cn:cloudwatch:cn-north-1:111122223333:alarm:b');
  });
});

describe('the alarm-to-rollback rule', () => {
  const rule = alarmRule(CONFIG)!;
  const matches = (e: unknown) => matchesPattern(rule.pattern, e);

  it('is a valid pattern, one of the config\'s rules', () => {
    expect(validatePattern(rule.pattern)).toEqual([]);
    expect(eventRules(CONFIG).filter((r) => r.machine === 'rollback')).toEqual([rule]);
  });

  it('matches an alarm the config lists, or one tagged for a configured service and environment, entering ALARM', () => {
    expect(matches(alarmEvent('checkout-prod-errors'))).toBe(true);
    expect(matches(alarmEvent('checkout-staging-latency', { alarmTags: { 'tagflow:service': 'checkout', 'tagflow:environment': 'staging', team: 'payments' } }))).toBe(true);
  });

  it('matches nothing else: other alarms, tags naming no configured service or environment, tags only one of the two, OK', () => {
    expect(matches(alarmEvent('billing-cpu'))).toBe(false);
    expect(matches(alarmEvent('billing-cpu', { alarmTags: { team: 'billing' } }))).toBe(false);
    expect(matches(alarmEvent('x', { alarmTags: { 'tagflow:service': 'billing', 'tagflow:environment': 'prod' } }))).toBe(false);
    expect(matches(alarmEvent('x', { alarmTags: { 'tagflow:service': 'checkout', 'tagflow:environment': 'qa' } }))).toBe(false);
    expect(matches(alarmEvent('x', { alarmTags: { 'tagflow:service': 'checkout' } }))).toBe(false);
    expect(matches(alarmEvent('checkout-prod-errors', { value: 'OK' }))).toBe(false);
  });

  it('without listed alarms it routes by tags only; without services there is no rule', () => {
    const tagsOnly = alarmRule(parseConfig({ services: { api: { environments: [{ name: 'prod' }] } } }))!;
    expect(validatePattern(tagsOnly.pattern)).toEqual([]);
    expect(JSON.stringify(tagsOnly.pattern)).not.toContain('$or');
    expect(matchesPattern(tagsOnly.pattern, alarmEvent('x', { alarmTags: { 'tagflow:service': 'api', 'tagflow:environment': 'prod' } }))).toBe(true);
    expect(matchesPattern(tagsOnly.pattern, alarmEvent('x'))).toBe(false);
    expect(alarmRule({ services: {} })).toBeUndefined();
    expect(eventRules({ services: {} }).map((r) => r.name)).toEqual(['tag-pushed', 'codecommit-tag-created', 'ecr-image-pushed']);
  });
});
