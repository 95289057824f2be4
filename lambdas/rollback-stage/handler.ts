import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { rollbackStage, type RollbackStageInput } from '../lib/steps/rollback-stage.js';

export const run = (event: RollbackStageInput, deps: Deps) => rollbackStage(event, deps);
export const handler = stepHandler('rollback-stage', run, awsDeps);
