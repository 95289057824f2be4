import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { smoke, type SmokeInput } from '../lib/steps/smoke.js';

export const run = (event: SmokeInput, deps: Deps) => smoke(event, deps);
export const handler = stepHandler('smoke', run, awsDeps);
