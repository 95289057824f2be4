import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { normalise } from '../../lambdas/lib/steps/normalise.js';
import { type CanaryTrafficPlan, canaryTrafficPlan } from './canary-traffic.js';

/**
 * The canary traffic a release started by an event (send-event, send-webhook) gets locally, as
 * `local release` sends it: the service is the one the release machine's first state would
 * read from the event (or, for a webhook body, the service its repository feeds). Without it a
 * canary environment would see no request and end inconclusive.
 */
export function trafficForEvent(config: PipelineConfig, event: unknown): CanaryTrafficPlan | undefined {
  try {
    const n = normalise({ input: event, executionId: 'preview' }, config);
    return n.action === 'release' ? canaryTrafficPlan(config, { service: n.release.service, environments: n.plan.map((e) => e.name) }, { paths: ['/'] }) : undefined;
  } catch {
    return undefined; // the execution itself says what is wrong with the event
  }
}

/** A GitHub webhook body's service: the one whose `triggers.github` is its repository. */
export function trafficForWebhook(config: PipelineConfig, body: unknown): CanaryTrafficPlan | undefined {
  const repository = (body as { repository?: { full_name?: unknown } } | null)?.repository?.full_name;
  if (typeof repository !== 'string') return undefined;
  const service = Object.entries(config.services).find(([, s]) => s.triggers?.github?.toLowerCase() === repository.toLowerCase())?.[0];
  return service ? canaryTrafficPlan(config, { service }, { paths: ['/'] }) : undefined;
}

/** The runtime waits of several plans: the shortest bake poll wins, as `local release` takes its service's. */
export function mergedWaits(plans: readonly (CanaryTrafficPlan | undefined)[]): Record<string, number> | undefined {
  const waits = plans.flatMap((p) => (p?.waits ? [p.waits] : []));
  if (!waits.length) return undefined;
  const out: Record<string, number> = {};
  for (const w of waits) for (const [k, v] of Object.entries(w)) out[k] = Math.min(out[k] ?? Infinity, v);
  return out;
}
