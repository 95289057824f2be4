import type { Clock, HttpProbe, Locations, Logger } from '../../lib/ports.js';
import { systemClock } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { fetchProbe } from '../fetch-probe.js';
import { jsonLogger } from '../json-logger.js';

/**
 * Wiring for the step functions in AWS, one file per AWS client so each function's bundle
 * holds only the SDK clients its step uses. Each factory runs once per cold start, on first
 * use, so importing a handler never needs AWS settings.
 */

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set; the stack sets it on every tagflow function`);
  return value;
}

export interface CommonDeps {
  clock: Clock;
  log: Logger;
  http: HttpProbe;
  lockTtlMs: number;
}

export const common = once(
  (): CommonDeps => ({
    clock: systemClock,
    log: jsonLogger({ function: process.env.AWS_LAMBDA_FUNCTION_NAME }),
    http: fetchProbe,
    lockTtlMs: Number(process.env.LOCK_TTL_MS ?? 30 * 60_000),
  }),
);

/** The buckets the stack made, from the function's environment. */
export const locations = once((): Locations => ({ artifactsBucket: requireEnv('ARTIFACTS_BUCKET'), environmentsBucket: requireEnv('ENVIRONMENTS_BUCKET') }));
