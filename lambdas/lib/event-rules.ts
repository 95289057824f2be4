import { evaluatePattern, matchesPattern, type EventPattern } from './event-pattern.js';

/**
 * The EventBridge rules that start tagflow's state machines, defined once as data: the CDK
 * stack deploys these patterns and the local runtime matches events against the same ones,
 * so "it starts locally" means "it starts in AWS".
 */

export interface EventRule {
  name: string;
  description: string;
  machine: 'release' | 'rollback';
  pattern: EventPattern;
}

export const EVENT_RULES: EventRule[] = [
  {
    name: 'tag-pushed',
    description: 'A version tag pushed, as put on the bus by CI or the GitHub webhook receiver: detail {repository?, service?, tag, commit?}.',
    machine: 'release',
    pattern: { source: ['tagflow'], 'detail-type': ['Tag Pushed'] },
  },
  {
    name: 'codecommit-tag-created',
    description: 'A tag created in a CodeCommit repository.',
    machine: 'release',
    pattern: {
      source: ['aws.codecommit'],
      'detail-type': ['CodeCommit Repository State Change'],
      detail: { event: ['referenceCreated'], referenceType: ['tag'] },
    },
  },
  {
    name: 'ecr-image-pushed',
    // Only version-tagged images ("v…"): "latest" and untagged pushes are not releases.
    description: 'A successful push of a version-tagged image to ECR.',
    machine: 'release',
    pattern: {
      source: ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      detail: { 'action-type': ['PUSH'], result: ['SUCCESS'], 'image-tag': [{ prefix: 'v' }] },
    },
  },
  {
    name: 'alarm-to-rollback',
    // Only transitions into ALARM: OK and INSUFFICIENT_DATA must not roll anything back.
    description: 'A CloudWatch alarm entering ALARM; the rollback machine decides whether it guards a released service.',
    machine: 'rollback',
    pattern: {
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      detail: { state: { value: ['ALARM'] } },
    },
  },
];

/** The rules whose pattern matches the event, in definition order (EventBridge starts every one). */
export function rulesMatching(event: unknown, rules: readonly EventRule[] = EVENT_RULES): { rule: EventRule }[] {
  return rules.filter((rule) => matchesPattern(rule.pattern, event)).map((rule) => ({ rule }));
}

/**
 * Why no rule matched, for a person who sent the event by hand: the closest rule (most leaf
 * conditions satisfied) and the first field it rejected, e.g.
 * `rule ecr-image-pushed: detail.result is "FAILURE", expected one of ["SUCCESS"]`.
 */
export function explainNoMatch(event: unknown, rules: readonly EventRule[] = EVENT_RULES): string {
  let best: { rule: EventRule; matched: number; reason: string | undefined } | undefined;
  for (const rule of rules) {
    const e = evaluatePattern(rule.pattern, event);
    if (e.matches) return `rule ${rule.name} matches`;
    if (!best || e.matched > best.matched) best = { rule, matched: e.matched, reason: e.reason };
  }
  if (!best) return 'no rules are defined';
  if (best.matched === 0) {
    // Nothing in common with any rule: list what the rules listen for instead of one arbitrary miss.
    const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
    const show = (v: unknown) => JSON.stringify(v) ?? '(missing)';
    const known = rules.map((r) => `${r.name} (source ${show(r.pattern.source)}, detail-type ${show(r.pattern['detail-type'])})`).join('; ');
    return `no rule matches source ${show(e.source)} with detail-type ${show(e['detail-type'])}; the rules are: ${known}`;
  }
  return `rule ${best.rule.name}: ${best.reason}`;
}
