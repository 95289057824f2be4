import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { claim } from '../lib/steps/claim.js';
import type { ReleaseContext } from '../lib/types.js';

export const run = (event: ReleaseContext, deps: Deps) => claim(event, deps);
export const handler = stepHandler('claim', run, awsDeps);
