import { common, locations } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { reader } from '../adapters/aws/reader.js';
import { invoker, targets } from '../adapters/aws/targets.js';
import { stepHandler } from '../lib/step-handler.js';
import { rollback } from '../lib/steps/rollback.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = rollback;
export const handler = stepHandler('rollback', run, () => ({ ...common(), ledger: ledger(), store: reader(), locations: locations(), targets, invoker: invoker() }));
