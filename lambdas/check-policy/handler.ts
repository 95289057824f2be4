import { approvals } from '../adapters/aws/approvals.js';
import { config } from '../adapters/aws/config.js';
import { common, locations } from '../adapters/aws/env.js';
import { reader } from '../adapters/aws/reader.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { checkPolicy } from '../lib/steps/check-policy.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = checkPolicy;
export const handler = stepHandler('check-policy', run, () => ({ ...common(), config, ledger: ledger(), store: reader(), locations: locations(), approvals: approvals() }));
