import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { targets } from '../adapters/aws/targets.js';
import { stepHandler } from '../lib/step-handler.js';
import { deploy } from '../lib/steps/deploy.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = deploy;
export const handler = stepHandler('deploy', run, () => ({ ...common(), ledger: ledger(), targets }));
