import * as z from 'zod';
import type { FieldIssue } from './errors.js';
import { SERVICE_PATTERN } from './version.js';

/**
 * Release trains: a product of several services tagged once, every member shipping that
 * version, environment by environment, in a deploy order of groups.
 */

const groups = z.array(z.array(z.string().min(1)).min(1, 'a group lists at least one service')).min(1, 'give at least one group');

export const trainSchema = z.strictObject({
  /** The members; each must be a configured service with the same environments in the same order. */
  services: z.array(z.string().regex(SERVICE_PATTERN, 'expected a configured service name')).min(1, 'a train needs at least one service'),
  /**
   * Per environment: groups that deploy one after another (the services of a group may go
   * together), or "alphabetical" / "listed" (one service per group). Default "listed": the order of `services`.
   */
  order: z.record(z.string(), z.union([z.enum(['alphabetical', 'listed']), groups])).default({}),
  /** Per environment: keep deploying the following groups there after a member failed (never in the last environment: production stops). */
  continueOnFailure: z.record(z.string(), z.boolean()).default({}),
  /** How many members of one group deploy at once. */
  maxConcurrency: z.number().int().min(1).max(40).default(1),
});

export const trainsSchema = z.record(z.string().regex(SERVICE_PATTERN, 'a train name is lower-case letters, digits and dashes, starting with a letter (e.g. "accounts")'), trainSchema);
export const TRAIN_KEYS = Object.keys(trainSchema.shape);

export type TrainConfig = z.infer<typeof trainSchema>;

/** The groups of one environment, in deploy order. */
export function trainGroups(train: TrainConfig, environment: string): string[][] {
  const order = train.order[environment] ?? 'listed';
  if (order === 'alphabetical') return [...train.services].sort().map((s) => [s]);
  if (order === 'listed') return train.services.map((s) => [s]);
  return order;
}

/** The environments every member goes through, in order (the first member's; config checks they agree). */
export function trainEnvironments(train: TrainConfig, services: Record<string, { environments: { name: string }[] }>): string[] {
  return services[train.services[0]!]?.environments.map((e) => e.name) ?? [];
}

/** Checks across fields: members exist and share environments; every environment's groups cover every member once. */
export function trainIssues(trains: Record<string, TrainConfig>, services: Record<string, { environments: { name: string }[] }>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [name, train] of Object.entries(trains)) {
    const at = `trains.${name}`;
    const seen = new Set<string>();
    let envs: string[] | undefined;
    let first: string | undefined;
    train.services.forEach((s, i) => {
      if (seen.has(s)) issues.push({ field: `${at}.services[${i}]`, problem: `"${s}" appears twice` });
      seen.add(s);
      const svc = services[s];
      if (!svc) {
        issues.push({ field: `${at}.services[${i}]`, problem: `no service "${s}" in services; configured: ${Object.keys(services).join(', ') || '(none)'}` });
        return;
      }
      const mine = svc.environments.map((e) => e.name);
      if (envs === undefined) [envs, first] = [mine, s];
      else if (mine.join(',') !== envs.join(',')) {
        issues.push({ field: `${at}.services[${i}]`, problem: `"${s}" has environments ${JSON.stringify(mine)} but "${first}" has ${JSON.stringify(envs)}: the members of a train go through the same environments in the same order` });
      }
    });
    const known = envs ?? [];
    for (const [env, order] of Object.entries(train.order)) {
      if (envs && !known.includes(env)) issues.push({ field: `${at}.order.${env}`, problem: `no environment "${env}" in this train; its environments are ${JSON.stringify(known)}` });
      if (typeof order === 'string') continue;
      const placed = new Map<string, string>();
      order.forEach((group, g) =>
        group.forEach((s, k) => {
          const field = `${at}.order.${env}[${g}][${k}]`;
          if (!seen.has(s)) issues.push({ field, problem: `"${s}" is not a member of this train (${train.services.join(', ')})` });
          else if (placed.has(s)) issues.push({ field, problem: `"${s}" is already in ${placed.get(s)}: each member deploys once per environment` });
          else placed.set(s, `group ${g}`);
        }),
      );
      const missing = train.services.filter((s) => !placed.has(s));
      if (missing.length) issues.push({ field: `${at}.order.${env}`, problem: `the groups leave out ${missing.join(', ')}: every member must be in exactly one group` });
    }
    for (const [env, on] of Object.entries(train.continueOnFailure)) {
      if (envs && !known.includes(env)) issues.push({ field: `${at}.continueOnFailure.${env}`, problem: `no environment "${env}" in this train; its environments are ${JSON.stringify(known)}` });
      else if (on && env === known.at(-1)) issues.push({ field: `${at}.continueOnFailure.${env}`, problem: `"${env}" is the train's last environment (production): a failure there stops the rest of the train; remove it or set false` });
    }
  }
  return issues;
}
