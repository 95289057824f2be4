import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { judgeCanary, type CanaryStepInput } from '../lib/steps/canary.js';

export const run = (event: CanaryStepInput, deps: Deps) => judgeCanary(event, deps);
export const handler = stepHandler('judge-canary', run, awsDeps);
