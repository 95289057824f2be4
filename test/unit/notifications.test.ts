import { describe, expect, it } from 'vitest';
import { validatePattern } from '../../lambdas/lib/event-pattern.js';
import { NOTIFICATIONS, notificationsFor, renderNotifications, transformerOf } from '../../lambdas/lib/notifications.js';
import { howToApprove } from '../../lambdas/lib/steps/request-approval.js';
import { evaluate, resolvePath, TransformerOutputInvalid, validateTransformer, type InputTransformer } from '../../lambdas/lib/notifications-transformer.js';

/** EventBridge's documented example event ("Transforming target input"). */
const EC2 = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING' },
};
const PATHS = { timestamp: '$.time', instance: '$.detail.instance-id', state: '$.detail.state' };
const RULE = { ruleName: 'example', ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example' };
const run = (InputTemplate: string, InputPathsMap: Record<string, string> = PATHS) => evaluate({ InputPathsMap, InputTemplate }, EC2, RULE);

describe('input transformer: the documented examples', () => {
  it('simple string', () => {
    expect(run('"instance <instance> is in <state>"')).toEqual({ output: '"instance i-0123456789 is in RUNNING"', value: 'instance i-0123456789 is in RUNNING' });
  });

  it('string with escaped quotes', () => {
    expect(run('"instance \\"<instance>\\" is in <state>"').value).toBe('instance "i-0123456789" is in RUNNING');
  });

  it('simple JSON: a string in a value position is quoted', () => {
    expect(run('{"instance" : <instance>, "state": <state>}').value).toEqual({ instance: 'i-0123456789', state: 'RUNNING' });
  });

  it('JSON with strings and variables', () => {
    expect(run('{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}').value).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      instanceStatus: 'instance "i-0123456789" is in RUNNING',
    });
  });

  it('JSON with a mix of variables and static information', () => {
    expect(run('{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}').value).toEqual({ instance: 'i-0123456789', state: [9, 'RUNNING', true], Transformed: 'Yes' });
  });

  it('reserved variables in JSON and in a string', () => {
    const { value } = run('{"instance" : <instance>, "ruleArn" : <aws.events.rule-arn>, "ruleName" : <aws.events.rule-name>, "originalEvent" : <aws.events.event>}');
    const { detail: _d, ...envelope } = EC2;
    expect(value).toEqual({ instance: 'i-0123456789', ruleArn: RULE.ruleArn, ruleName: 'example', originalEvent: envelope });
    expect(run('"<aws.events.rule-name> triggered"').value).toBe('example triggered');
  });

  it('a path that does not resolve pastes nothing inside a string', () => {
    expect(run('"instance <instance> in <zone>"', { ...PATHS, zone: '$.detail.zone' }).value).toBe('instance i-0123456789 in ');
  });

  it('pastes values unescaped: a quote in a value breaks the output, and the error names the variable', () => {
    const event = { ...EC2, detail: { ...EC2.detail, state: 'said "no"' } };
    const t: InputTransformer = { InputPathsMap: PATHS, InputTemplate: '"<instance> is <state>"' };
    expect(() => evaluate(t, event, RULE)).toThrow(TransformerOutputInvalid);
    expect(() => evaluate(t, event, RULE)).toThrow(/<state> holds a quote, backslash or line break/);
  });

  it('pastes a number inside a string as its text, an object as its JSON (which breaks the string)', () => {
    const event = { ...EC2, detail: { n: 10, o: { a: 1 } } };
    expect(evaluate({ InputPathsMap: { n: '$.detail.n' }, InputTemplate: '"<n>%"' }, event, RULE).value).toBe('10%');
    const t = { InputPathsMap: { n: '$.detail.n', o: '$.detail.o' }, InputTemplate: '"<n>% <o>"' };
    expect(() => evaluate(t, event, RULE)).toThrow(/<o> holds a quote/);
    try {
      evaluate(t, event, RULE);
    } catch (err) {
      expect((err as TransformerOutputInvalid).output).toBe('"10% {"a":1}"');
    }
  });

  it('resolves dot paths with dashes and array indices; undefined when missing', () => {
    expect(resolvePath('$.detail.instance-id', EC2)).toBe('i-0123456789');
    expect(resolvePath('$.resources[0]', EC2)).toBe(EC2.resources[0]);
    expect(resolvePath('$.detail.nope.deeper', EC2)).toBeUndefined();
    expect(() => resolvePath("$['detail']", EC2)).toThrow(/dot notation/);
  });
});

describe('validateTransformer', () => {
  it('names undefined placeholders, bad paths, reserved and too many variables, and a template that is not JSON', () => {
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, '$.detail.x']));
    expect(validateTransformer({ InputPathsMap: many, InputTemplate: '"x"' })).toEqual([expect.stringMatching(/101 variables, EventBridge allows at most 100/)]);
    expect(validateTransformer({ InputPathsMap: { a: 'detail.a' }, InputTemplate: '"<a> <b>"' })).toEqual([
      expect.stringMatching(/InputPathsMap\.a: "detail\.a" is not a dot-notation JSONPath/),
      expect.stringMatching(/<b> is not in InputPathsMap/),
    ]);
    expect(validateTransformer({ InputPathsMap: { a: '$.a' }, InputTemplate: 'a is <a>' })).toEqual([expect.stringMatching(/not JSON once its placeholders are filled/)]);
  });
});

describe('the release notifications', () => {
  it('are valid patterns and transformers, with unique names', () => {
    for (const n of NOTIFICATIONS) {
      expect(validatePattern(n.pattern), n.name).toEqual([]);
      expect(validateTransformer(transformerOf(n)), n.name).toEqual([]);
    }
    expect(new Set(NOTIFICATIONS.map((n) => n.name)).size).toBe(NOTIFICATIONS.length);
  });

  const bus = (detailType: string, detail: Record<string, unknown>) => ({ version: '0', id: 'x', source: 'tagflow', 'detail-type': detailType, account: '1', region: 'r', time: '2026-11-30T00:00:00Z', resources: [], detail });
  const lines = (event: Record<string, unknown>) => renderNotifications(event, (n) => ({ ruleName: n.name, ruleArn: `arn:${n.name}` })).map((r) => r.line);

  it('tell the two Release Rolled Back events apart: a release undone, an environment restored by the rollback machine', () => {
    expect(lines(bus('Release Rolled Back', { service: 'api', version: 'v2', executionId: 'arn:x', error: 'CanaryFailed', reason: 'canary v2 removed from prod at 10%' }))).toEqual(['api v2 rolled back: canary v2 removed from prod at 10%']);
    expect(lines(bus('Release Rolled Back', { service: 'api', environment: 'prod', version: 'v2', restoredVersion: 'v1', executionId: 'arn:y', reason: 'alarm api-errors', trigger: 'alarm' }))).toEqual([
      'api prod rolled back from v2 to v1 (trigger: alarm): alarm api-errors',
    ]);
  });

  it('word each approval kind, and a kind not known yet generically', () => {
    const base = { service: 'api', version: 'v2', environment: 'prod', executionId: 'arn:x', needed: 2, expiresAt: '2026-12-01T00:00:00.000Z', howToApprove: 'tagflow approve --service api', reason: 'r' };
    expect(lines(bus('Approval Requested', { ...base, kind: 'emergency' }))[0]).toMatch(/^api v2: emergency release into prod waits for 2 approvers until 2026-12-01T00:00:00\.000Z \(r\)\. To approve: tagflow approve --service api$/);
    expect(lines(bus('Approval Requested', { ...base, kind: 'canary-hold', needed: 1, weight: 10 }))[0]).toMatch(/^api v2: canary held at 10% of prod until/);
    expect(lines(bus('Approval Requested', { ...base, kind: 'promotion', needed: 1 }))[0]).toMatch(/^api v2: promotion approval for prod waits for 1 approver\(s\)/);
  });

  it('paste the deployed approval instructions intact (tagflow approve … --url), for every kind', () => {
    const channel = { kind: 'function-url' as const, url: 'https://abc.lambda-url.eu-west-1.on.aws/' };
    const key = { service: 'api', version: 'v2', environment: 'prod' };
    const base = { ...key, executionId: 'arn:x', needed: 2, weight: 10, expiresAt: '2026-12-01T00:00:00.000Z', reason: 'emergency: hotfix; prod is frozen' };
    for (const kind of ['emergency', 'canary-hold', 'promotion'] as const) {
      const how = howToApprove(channel, key, kind);
      const [line] = lines(bus('Approval Requested', { ...base, kind, howToApprove: how }));
      expect(line!.endsWith(`: ${how}`)).toBe(true);
    }
  });

  it('publish a Chatbot custom notification whose description is the line', () => {
    const [r] = renderNotifications(bus('Release Succeeded', { service: 'api', version: 'v2', reason: 'live in prod', notes: { count: 2, summary: '2 changes: 1 feat, 1 fix' } }), (n) => ({ ruleName: n.name, ruleArn: 'arn' }));
    expect(JSON.parse(r!.message)).toEqual({ version: '1.0', source: 'custom', content: { title: 'tagflow: Release succeeded', description: 'api v2 released: live in prod (2 changes: 1 feat, 1 fix)' } });
  });

  it('match nothing from other sources or detail-types', () => {
    expect(notificationsFor({ ...bus('Tag Pushed', {}), source: 'tagflow' })).toEqual([]);
    expect(notificationsFor({ ...bus('Release Succeeded', {}), source: 'other' })).toEqual([]);
  });
});
