import { LambdaClient } from '@aws-sdk/client-lambda';
import { config } from '../adapters/aws/config.js';
import { common } from '../adapters/aws/env.js';
import { events } from '../adapters/aws/events.js';
import { ledger } from '../adapters/aws/ledger.js';
import { LambdaAliasServing } from '../adapters/lambda-alias-serving.js';
import { once, stepHandler } from '../lib/step-handler.js';
import { detectDriftStep } from '../lib/steps/detect-drift.js';

/** GetAlias only: the reader never moves an alias. */
const serving = once(() => new LambdaAliasServing(new LambdaClient({})));

/** The core step as it runs anywhere (the local runtime calls this with its own deps). */
export const run = detectDriftStep;
export const handler = stepHandler('detect-drift', run, () => ({ ...common(), config, ledger: ledger(), events: events(), serving: () => serving() }));
