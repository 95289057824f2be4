import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Ledger } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { DynamoDbLedger } from '../dynamodb-ledger.js';
import { requireEnv } from './env.js';

export const ledger = once((): Ledger => new DynamoDbLedger(new DynamoDBClient({}), requireEnv('LEDGER_TABLE')));
