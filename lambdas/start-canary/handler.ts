import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { startCanary } from '../lib/steps/canary.js';
import type { DeployInput } from '../lib/steps/deploy.js';

export const run = (event: DeployInput, deps: Deps) => startCanary(event, deps);
export const handler = stepHandler('start-canary', run, awsDeps);
