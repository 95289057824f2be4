import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { recordOutcome } from '../lib/steps/record-outcome.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = recordOutcome;
export const handler = stepHandler('record-outcome', run, () => ({ ...common(), ledger: ledger() }));
