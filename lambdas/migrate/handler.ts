import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { invoker } from '../adapters/aws/targets.js';
import { stepHandler } from '../lib/step-handler.js';
import { migrate } from '../lib/steps/migrate.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = migrate;
export const handler = stepHandler('migrate', run, () => ({ ...common(), ledger: ledger(), invoker: invoker() }));
