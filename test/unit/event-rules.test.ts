import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validatePattern } from '../../lambdas/lib/event-pattern.js';
import { parseConfigText } from '../../lambdas/lib/config.js';
import { eventRules, explainNoMatch as explainFor, rulesMatching } from '../../lambdas/lib/event-rules.js';

const sample = (name: string): Record<string, any> => JSON.parse(readFileSync(new URL(`../../examples/events/${name}.json`, import.meta.url), 'utf8'));
/** The rules for the demo's config (its prod lists the sample alarm, demo-prod-errors). */
const EVENT_RULES = eventRules(parseConfigText(readFileSync(new URL('../../examples/tagflow.config.json', import.meta.url), 'utf8')));
const matched = (event: unknown) => rulesMatching(event, EVENT_RULES).map(({ rule }) => rule.name);
const explainNoMatch = (event: unknown) => explainFor(event, EVENT_RULES);

describe('eventRules(config)', () => {
  it('are valid EventBridge patterns with unique names', () => {
    for (const rule of EVENT_RULES) expect(validatePattern(rule.pattern), rule.name).toEqual([]);
    expect(new Set(EVENT_RULES.map((r) => r.name)).size).toBe(EVENT_RULES.length);
    expect(EVENT_RULES.map((r) => [r.name, r.machine])).toEqual([
      ['tag-pushed', 'release'],
      ['codecommit-tag-created', 'release'],
      ['ecr-image-pushed', 'release'],
      ['alarm-to-rollback', 'rollback'],
    ]);
  });
});

describe('sample events in examples/events', () => {
  it.each([
    ['tag-pushed', ['tag-pushed']],
    ['codecommit-tag-created', ['codecommit-tag-created']],
    ['ecr-image-push', ['ecr-image-pushed']],
    ['alarm-state-alarm', ['alarm-to-rollback']],
    ['ecr-image-push-failed', []],
    ['alarm-state-ok', []],
  ])('%s matches exactly %j', (name, expected) => {
    expect(matched(sample(name))).toEqual(expected);
  });

  it('have the envelope and fields AWS sends', () => {
    for (const name of ['tag-pushed', 'codecommit-tag-created', 'ecr-image-push', 'ecr-image-push-failed', 'alarm-state-alarm', 'alarm-state-ok']) {
      const e = sample(name);
      expect(e, name).toMatchObject({ version: '0', account: '123456789012', region: 'us-east-1' });
      expect(Object.keys(e).sort(), name).toEqual(['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
    }
    expect(sample('tag-pushed').detail).toMatchObject({ repository: 'acme/demo', tag: 'v1.0.0', commit: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(sample('codecommit-tag-created').detail).toMatchObject({ repositoryName: 'demo', referenceName: 'v1.0.0', referenceFullName: 'refs/tags/v1.0.0', commitId: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(sample('ecr-image-push').detail).toMatchObject({ 'repository-name': 'demo', 'image-tag': 'v1.0.0', 'image-digest': expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(sample('alarm-state-alarm').detail).toMatchObject({ alarmName: 'demo-prod-errors', state: { value: 'ALARM' }, previousState: { value: 'OK' } });
    expect(sample('alarm-state-ok').detail).toMatchObject({ alarmName: 'demo-prod-errors', state: { value: 'OK' }, previousState: { value: 'ALARM' } });
  });
});

describe('explainNoMatch', () => {
  it('names the closest rule and the field it rejected', () => {
    expect(explainNoMatch(sample('ecr-image-push-failed'))).toBe('rule ecr-image-pushed: detail.result is "FAILURE", expected one of ["SUCCESS"]');
    expect(explainNoMatch(sample('alarm-state-ok'))).toBe('rule alarm-to-rollback: detail.state.value is "OK", expected one of ["ALARM"]');
  });

  it('explains the filters that keep non-releases out', () => {
    const latest = sample('ecr-image-push');
    latest.detail['image-tag'] = 'latest';
    expect(matched(latest)).toEqual([]);
    expect(explainNoMatch(latest)).toBe('rule ecr-image-pushed: detail.image-tag is "latest", expected to match [{"prefix":"v"}]');

    const branch = sample('codecommit-tag-created');
    branch.detail.referenceType = 'branch';
    expect(matched(branch)).toEqual([]);
    expect(explainNoMatch(branch)).toBe('rule codecommit-tag-created: detail.referenceType is "branch", expected one of ["tag"]');

    const typo = { source: 'tagflow', 'detail-type': 'Tag pushed', detail: { tag: 'v1.0.0' } };
    expect(explainNoMatch(typo)).toBe('rule tag-pushed: detail-type is "Tag pushed", expected one of ["Tag Pushed"]');
  });

  it('lists what the rules listen for when nothing comes close', () => {
    const msg = explainNoMatch({ source: 'acme.billing', 'detail-type': 'Invoice Paid', detail: {} });
    expect(msg).toMatch(/^no rule matches source "acme\.billing" with detail-type "Invoice Paid"; the rules are: /);
    for (const rule of EVENT_RULES) expect(msg).toContain(rule.name);
    expect(msg).toContain('source ["aws.ecr"], detail-type ["ECR Image Action"]');
  });
});
