import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ApprovalChannel, ApprovalStore } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { DynamoDbApprovals } from '../dynamodb-approvals.js';
import { requireEnv } from './env.js';

export const approvals = once((): ApprovalStore => new DynamoDbApprovals(new DynamoDBClient({}), requireEnv('LEDGER_TABLE')));

/** The approval function's URL (the stack sets APPROVAL_URL on the function that requests approvals). */
export const approvalChannel = once((): ApprovalChannel => ({ kind: 'function-url', url: requireEnv('APPROVAL_URL') }));
