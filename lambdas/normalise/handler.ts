import { awsDeps } from '../adapters/aws-deps.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { normalise, type NormaliseInput } from '../lib/steps/normalise.js';

export const run = async (event: NormaliseInput, deps: Deps) => normalise(event, await deps.config());
export const handler = stepHandler('normalise', run, awsDeps);
