import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { invoker, targets } from '../adapters/aws/targets.js';
import { stepHandler } from '../lib/step-handler.js';
import { preTraffic } from '../lib/steps/pre-traffic.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = preTraffic;
export const handler = stepHandler('pre-traffic', run, () => ({ ...common(), ledger: ledger(), targets, invoker: invoker() }));
