import type { PipelineConfig } from './config.js';
import type { Ledger } from './ports.js';
import type { DriftMark } from './types.js';

/** A bad `tagflow drift --acknowledge` input, or nothing to acknowledge; the message names the flag. */
export class DriftAcknowledgeError extends Error {
  override name = 'DriftAcknowledgeError';
}

export interface AcknowledgeFlags {
  service?: string | undefined;
  environment?: string | undefined;
  reason?: string | undefined;
}

/**
 * `tagflow drift --acknowledge`: a person accepts the drift marked on an environment, recording
 * who and why; releases go there again, and the same drift is not announced again (a different
 * one is). `by` is the caller's identity (locally the OS user), never a field of the request.
 */
export async function acknowledgeDrift(ledger: Pick<Ledger, 'getEnvironment' | 'markDrift'>, config: PipelineConfig, flags: AcknowledgeFlags, now: Date, by: string): Promise<DriftMark> {
  const services = Object.keys(config.services);
  if (!flags.service) throw new DriftAcknowledgeError(`--service is required: the service whose environment drifted (services: ${services.join(', ')})`);
  const svc = config.services[flags.service];
  if (!svc) throw new DriftAcknowledgeError(`--service: no service "${flags.service}" in the config; services: ${services.join(', ')}`);
  const envs = svc.environments.map((e) => e.name);
  if (!flags.environment) throw new DriftAcknowledgeError(`--environment is required: the drifted environment (environments of ${flags.service}: ${envs.join(', ')})`);
  if (!envs.includes(flags.environment)) throw new DriftAcknowledgeError(`--environment: service "${flags.service}" has no environment "${flags.environment}"; environments: ${envs.join(', ')}`);
  const reason = flags.reason?.trim();
  if (!reason) throw new DriftAcknowledgeError('--reason is required: why what serves may stay as it is, e.g. --reason "hotfix applied by hand during INC-42"');
  const state = await ledger.getEnvironment(flags.service, flags.environment);
  if (!state?.drift) throw new DriftAcknowledgeError(`${flags.environment} of ${flags.service} is not marked drifted: nothing to acknowledge (tagflow drift checks it now)`);
  if (state.drift.acknowledged) return state.drift;
  const mark: DriftMark = { ...state.drift, acknowledged: { by, at: now.toISOString(), reason } };
  if (!(await ledger.markDrift(flags.service, flags.environment, mark, state.revision, now.getTime()))) {
    throw new DriftAcknowledgeError(`${flags.environment} of ${flags.service} changed while it was acknowledged (a release holds its lock or wrote its state); look at tagflow status and try again`);
  }
  return mark;
}
