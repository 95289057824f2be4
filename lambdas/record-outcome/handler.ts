import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { recordOutcome, type RecordOutcomeInput } from '../lib/steps/record-outcome.js';

export const run = (event: RecordOutcomeInput, deps: Deps) => recordOutcome(event, deps);
export const handler = stepHandler('record-outcome', run, awsDeps);
