import * as z from 'zod';
import type { PipelineConfig } from './config.js';
import { InvalidInput } from './errors.js';
import { MANUAL_ROLLBACK_EXAMPLE } from './rollback-example.js';
import { describeIssues } from './validation.js';
import { ENVIRONMENT_PATTERN, SERVICE_PATTERN, versionProblem } from './version.js';
import type { EventEnvelope } from './triggers.js';

/** The rollback machine's inputs: what on-call pastes into the console, or an alarm's state change. */

/** The tags that route an alarm to a service's environment (in its event with AlarmTagsPropagation, or looked up); the alarm-to-rollback rule filters on them too. */
export const ALARM_TAGS = { service: 'tagflow:service', environment: 'tagflow:environment' } as const;

export const manualRollbackSchema = z.strictObject({
  service: z.string({ error: 'expected a service name, e.g. "checkout"' }).regex(SERVICE_PATTERN, 'lower-case letters, digits and dashes, starting with a letter'),
  environment: z.string({ error: 'expected an environment name, e.g. "prod"' }).regex(ENVIRONMENT_PATTERN, 'lower-case letters, digits and dashes, starting with a letter'),
  reason: z.string({ error: 'say why you are rolling back (it goes in the ledger)' }).min(3, 'say why you are rolling back (it goes in the ledger)').max(1000),
  toVersion: z
    .string()
    .superRefine((v, ctx) => {
      const problem = versionProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
});

export interface RollbackRequest {
  service: string;
  environment: string;
  reason: string;
  toVersion?: string;
  trigger: { kind: 'manual' | 'alarm'; detail?: string };
}

export function parseManualRollback(input: unknown): RollbackRequest {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new InvalidInput([{ field: '(input)', problem: 'expected a JSON object' }], MANUAL_ROLLBACK_EXAMPLE);
  }
  const result = manualRollbackSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw new InvalidInput(describeIssues(result.error, (p) => (p.length === 0 ? Object.keys(manualRollbackSchema.shape) : [])), MANUAL_ROLLBACK_EXAMPLE);
  const m = result.data;
  return { service: m.service, environment: m.environment, reason: m.reason, ...(m.toVersion ? { toVersion: m.toVersion } : {}), trigger: { kind: 'manual' } };
}

function tagValue(tags: unknown, key: string): string | undefined {
  if (Array.isArray(tags)) {
    const found = tags.find((t) => t && typeof t === 'object' && ((t as { Key?: unknown }).Key ?? (t as { key?: unknown }).key) === key) as { Value?: unknown; value?: unknown } | undefined;
    const v = found?.Value ?? found?.value;
    return typeof v === 'string' ? v : undefined;
  }
  if (tags && typeof tags === 'object') {
    const v = (tags as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  }
  return undefined;
}

/** The alarm's ARN: from the event's `resources`, else built from its region, account and name. */
export function alarmArnOf(e: EventEnvelope): string | undefined {
  const env = e as EventEnvelope & { resources?: unknown; region?: unknown; account?: unknown };
  const listed = Array.isArray(env.resources) ? env.resources.find((r): r is string => typeof r === 'string' && /^arn:[^:]+:cloudwatch:[^:]+:\d{12}:alarm:./.test(r)) : undefined;
  if (listed) return listed;
  const name = e.detail.alarmName;
  if (typeof name !== 'string' || typeof env.region !== 'string' || typeof env.account !== 'string') return undefined;
  const partition = env.region.startsWith('cn-') ? 'aws-cn' : env.region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:cloudwatch:${env.region}:${env.account}:alarm:${name}`;
}

/**
 * The ARN whose tags to read for this event: an alarm entering ALARM whose event carries no
 * tags (its alarm has AlarmTagsPropagation off). Undefined: nothing to look up.
 */
export function alarmToLookUp(e: EventEnvelope): string | undefined {
  const d = e.detail as { alarmName?: unknown; state?: { value?: unknown }; alarmTags?: unknown; tags?: unknown };
  if (typeof d.alarmName !== 'string' || d.state?.value !== 'ALARM') return undefined;
  if (d.alarmTags !== undefined || d.tags !== undefined) return undefined;
  return alarmArnOf(e);
}

/**
 * A `CloudWatch Alarm State Change` into ALARM, for an alarm that belongs to a service's
 * environment: through its `tagflow:service` / `tagflow:environment` tags, from the event
 * (`detail.alarmTags`, with AlarmTagsPropagation) or else as looked up (`lookedUpTags`), and
 * otherwise through the config's `alarms` lists.
 */
export function fromAlarm(e: EventEnvelope, config: PipelineConfig, lookedUpTags?: Record<string, string>): RollbackRequest | { ignore: string } {
  const d = e.detail as { alarmName?: unknown; state?: { value?: unknown; reason?: unknown }; alarmTags?: unknown; tags?: unknown };
  const alarmName = typeof d.alarmName === 'string' ? d.alarmName : undefined;
  if (!alarmName) return { ignore: 'alarm event has no detail.alarmName' };
  if (d.state?.value !== 'ALARM') return { ignore: `alarm ${alarmName} went to ${String(d.state?.value)}, not ALARM` };
  const tags = d.alarmTags ?? d.tags ?? lookedUpTags;
  let service = tagValue(tags, ALARM_TAGS.service);
  let environment = tagValue(tags, ALARM_TAGS.environment);
  if (!service || !environment) {
    for (const [name, svc] of Object.entries(config.services)) {
      const env = svc.environments.find((en) => en.alarms.includes(alarmName));
      if (env) [service, environment] = [name, env.name];
    }
  }
  if (!service || !environment) return { ignore: `alarm ${alarmName} has no ${ALARM_TAGS.service}/${ALARM_TAGS.environment} tags and no service lists it under an environment's "alarms"` };
  if (!SERVICE_PATTERN.test(service) || !ENVIRONMENT_PATTERN.test(environment)) return { ignore: `alarm ${alarmName} names an invalid service or environment` };
  const why = typeof d.state?.reason === 'string' ? `: ${d.state.reason.slice(0, 300)}` : '';
  return { service, environment, reason: `alarm ${alarmName} in ALARM${why}`, trigger: { kind: 'alarm', detail: alarmName } };
}
