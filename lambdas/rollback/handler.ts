import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { rollback, type RollbackInput } from '../lib/steps/rollback.js';

export const run = (event: RollbackInput, deps: Deps) => rollback(event, deps);
export const handler = stepHandler('rollback', run, awsDeps);
