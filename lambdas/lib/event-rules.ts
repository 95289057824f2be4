import type { PipelineConfig } from './config.js';
import { evaluatePattern, matchesPattern, type EventPattern } from './event-pattern.js';
import { ALARM_TAGS } from './rollback-input.js';
import { RECONCILED_STATUSES } from './reconcile.js';

export { ALARM_TAGS };

/** The EventBridge rules that start tagflow's state machines (`eventRules`). */

export interface EventRule {
  name: string;
  description: string;
  machine: 'release' | 'rollback';
  pattern: EventPattern;
}

/** The rules that do not depend on the config. */
const STATIC_RULES: readonly EventRule[] = [
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
];

const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/**
 * `alarm-to-rollback`: an alarm entering ALARM (never OK or INSUFFICIENT_DATA) that guards one
 * of the config's environments: its name is listed in a service environment's `alarms`, or the
 * event carries `tagflow:service` and `tagflow:environment` tags naming a configured service and
 * environment. CloudWatch puts the tags in the event (`detail.alarmTags`) only for an alarm with
 * `ActionConfiguration.AlarmTagsPropagation` enabled; a tagged alarm without it never reaches
 * the rollback machine unless the config lists its name. Every other alarm in the account (the
 * stack's own alarms on the pipeline included) starts nothing. No services: no rule.
 */
export function alarmRule(config: Pick<PipelineConfig, 'services'>): EventRule | undefined {
  const services = Object.entries(config.services);
  if (services.length === 0) return undefined;
  const listed = sortedUnique(services.flatMap(([, svc]) => svc.environments.flatMap((env) => env.alarms)));
  const tagged: EventPattern = {
    alarmTags: {
      [ALARM_TAGS.service]: services.map(([name]) => name).sort(),
      [ALARM_TAGS.environment]: sortedUnique(services.flatMap(([, svc]) => svc.environments.map((env) => env.name))),
    },
  };
  const state: EventPattern = { state: { value: ['ALARM'] } };
  return {
    name: 'alarm-to-rollback',
    description: `A CloudWatch alarm entering ALARM that the config lists under an environment's "alarms" (${listed.length}), or whose ${ALARM_TAGS.service} and ${ALARM_TAGS.environment} tags (in the event with AlarmTagsPropagation) name a configured service and environment.`,
    machine: 'rollback',
    pattern: {
      source: ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      // EventBridge refuses an empty list of values, and `$or` needs two branches.
      detail: listed.length ? { ...state, $or: [{ alarmName: listed }, tagged] } : { ...state, ...tagged },
    },
  };
}

/**
 * The rules for a pipeline config, defined once as data: the CDK stack deploys these patterns
 * (infra/triggers.ts) and the local runtime matches its events against the same ones, so "it
 * starts locally" means "it starts in AWS". The alarm rule depends on the config's services.
 */
export function eventRules(config: Pick<PipelineConfig, 'services'>): EventRule[] {
  const alarms = alarmRule(config);
  return [...STATIC_RULES, ...(alarms ? [alarms] : [])];
}

/** A rule whose target is one of tagflow's functions rather than a state machine. */
export interface FunctionRule {
  name: string;
  description: string;
  function: 'reconcile';
  pattern: EventPattern;
}

/**
 * `execution-ended`: an execution of one of the pipeline's machines (release or rollback, by
 * ARN) ended ABORTED (a console "Stop execution", a rollback's StopExecution), TIMED_OUT or
 * FAILED (a release that failed through its own Catch too: the reconciler then finds nothing
 * left to do). Step Functions puts these on the default bus, source `aws.states`; the
 * reconciler (lambdas/lib/reconcile.ts) cleans up after the execution. The machines' ARNs are
 * known only at deploy time (CDK tokens) or from the local runtime.
 */
export function executionEndedRule(stateMachineArns: readonly string[]): FunctionRule {
  if (stateMachineArns.length === 0) throw new Error('executionEndedRule: name at least one state machine ARN');
  return {
    name: 'execution-ended',
    description: 'An execution of the release or rollback machine that was stopped, timed out or failed: the reconciler removes its canary weight and locks and records its outcome.',
    function: 'reconcile',
    pattern: {
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: [...RECONCILED_STATUSES], stateMachineArn: [...stateMachineArns] },
    },
  };
}

/** The rules whose pattern matches the event, in definition order (EventBridge starts every one). */
export function rulesMatching(event: unknown, rules: readonly EventRule[]): { rule: EventRule }[] {
  return rules.filter((rule) => matchesPattern(rule.pattern, event)).map((rule) => ({ rule }));
}

/**
 * Why no rule matched, for a person who sent the event by hand: the closest rule (most leaf
 * conditions satisfied) and the first field it rejected, e.g.
 * `rule ecr-image-pushed: detail.result is "FAILURE", expected one of ["SUCCESS"]`.
 */
export function explainNoMatch(event: unknown, rules: readonly EventRule[]): string {
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
