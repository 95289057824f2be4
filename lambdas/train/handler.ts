import { common } from '../adapters/aws/env.js';
import { config } from '../adapters/aws/config.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { conductTrain } from '../lib/train.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = conductTrain;
export const handler = stepHandler('train', run, () => ({ ...common(), config, ledger: ledger() }));
