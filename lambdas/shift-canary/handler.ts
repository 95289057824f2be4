import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { targets } from '../adapters/aws/targets.js';
import { stepHandler } from '../lib/step-handler.js';
import { shiftCanary } from '../lib/steps/canary.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = shiftCanary;
export const handler = stepHandler('shift-canary', run, () => ({ ...common(), ledger: ledger(), targets }));
