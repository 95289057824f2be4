import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { recordStage } from '../lib/steps/record-stage.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = recordStage;
export const handler = stepHandler('record-stage', run, () => ({ ...common(), ledger: ledger() }));
