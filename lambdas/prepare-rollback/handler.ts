import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import type { RollbackContext } from '../lib/steps/normalise-rollback.js';
import { prepareRollback } from '../lib/steps/prepare-rollback.js';

export const run = (event: RollbackContext, deps: Deps) => prepareRollback(event, deps);
export const handler = stepHandler('prepare-rollback', run, awsDeps);
