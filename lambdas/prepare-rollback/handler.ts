import { common, locations } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { reader } from '../adapters/aws/reader.js';
import { stepHandler } from '../lib/step-handler.js';
import { prepareRollback } from '../lib/steps/prepare-rollback.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = prepareRollback;
export const handler = stepHandler('prepare-rollback', run, () => ({ ...common(), ledger: ledger(), store: reader(), locations: locations() }));
