import { common, locations } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { reader } from '../adapters/aws/reader.js';
import { signingKey } from '../adapters/aws/signing-key.js';
import { stepHandler } from '../lib/step-handler.js';
import { verifyProvenance } from '../lib/steps/verify-provenance.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = verifyProvenance;
export const handler = stepHandler('verify-provenance', run, () => ({ ...common(), ledger: ledger(), store: reader(), locations: locations(), signingKey: signingKey() }));
