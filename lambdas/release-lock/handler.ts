import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { stepHandler } from '../lib/step-handler.js';
import { releaseLock } from '../lib/steps/lock.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = releaseLock;
export const handler = stepHandler('release-lock', run, () => ({ ...common(), ledger: ledger() }));
