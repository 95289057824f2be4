import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { claim } from '../lib/steps/claim.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = claim;
export const handler = stepHandler('claim', run, () => ({ ...common(), ledger: ledger() }));
