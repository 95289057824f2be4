import { common, locations } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { store } from '../adapters/aws/store.js';
import { stepHandler } from '../lib/step-handler.js';
import { recordOutcome } from '../lib/steps/record-outcome.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = recordOutcome;
// The store writes the release report to the artifacts bucket (reports/ only, in infra/step-access.ts).
export const handler = stepHandler('record-outcome', run, () => ({ ...common(), ledger: ledger(), store: store(), locations: locations() }));
