import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { promote, type PromoteInput } from '../lib/steps/promote.js';

export const run = (event: PromoteInput, deps: Deps) => promote(event, deps);
export const handler = stepHandler('promote', run, awsDeps);
