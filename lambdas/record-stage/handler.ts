import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { recordStage, type RecordStageInput } from '../lib/steps/record-stage.js';

export const run = (event: RecordStageInput, deps: Deps) => recordStage(event, deps);
export const handler = stepHandler('record-stage', run, awsDeps);
