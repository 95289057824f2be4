import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { shiftCanary, type CanaryStepInput } from '../lib/steps/canary.js';

export const run = (event: CanaryStepInput, deps: Deps) => shiftCanary(event, deps);
export const handler = stepHandler('shift-canary', run, awsDeps);
