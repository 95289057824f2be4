import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { invoker, targets } from '../adapters/aws/targets.js';
import { stepHandler } from '../lib/step-handler.js';
import { smoke } from '../lib/steps/smoke.js';

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = smoke;
export const handler = stepHandler('smoke', run, () => ({ ...common(), ledger: ledger(), targets, invoker: invoker() }));
