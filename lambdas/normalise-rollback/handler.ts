import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { normaliseRollback } from '../lib/steps/normalise-rollback.js';

export const run = async (event: { input: unknown; executionId: string }, deps: Deps) => normaliseRollback(event, await deps.config());
export const handler = stepHandler('normalise-rollback', run, awsDeps);
