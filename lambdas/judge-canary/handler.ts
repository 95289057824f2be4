import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { metrics } from '../adapters/aws/metrics.js';
import { stepHandler } from '../lib/step-handler.js';
import { judgeCanary } from '../lib/steps/canary.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = judgeCanary;
export const handler = stepHandler('judge-canary', run, () => ({ ...common(), ledger: ledger(), metrics }));
