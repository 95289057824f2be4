import { config } from '../adapters/aws/config.js';
import { common } from '../adapters/aws/env.js';
import type { Deps } from '../lib/ports.js';
import { stepHandler } from '../lib/step-handler.js';
import { normalise, type NormaliseInput } from '../lib/steps/normalise.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = async (event: NormaliseInput, deps: Pick<Deps, 'config'>) => normalise(event, await deps.config());
export const handler = stepHandler('normalise', run, () => ({ ...common(), config }));
