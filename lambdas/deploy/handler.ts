import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { deploy, type DeployInput } from '../lib/steps/deploy.js';

export const run = (event: DeployInput, deps: Deps) => deploy(event, deps);
export const handler = stepHandler('deploy', run, awsDeps);
