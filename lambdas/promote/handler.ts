import { common, locations } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { store } from '../adapters/aws/store.js';
import { signingKey } from '../adapters/aws/signing-key.js';
import { stepHandler } from '../lib/step-handler.js';
import { promote } from '../lib/steps/promote.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = promote;
export const handler = stepHandler('promote', run, () => ({ ...common(), ledger: ledger(), store: store(), locations: locations(), signingKey: signingKey() }));
