import middy from '@middy/core';
import type { APIGatewayProxyResultV2, LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { approvals } from '../adapters/aws/approvals.js';
import { config } from '../adapters/aws/config.js';
import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { taskTokens } from '../adapters/aws/task-tokens.js';
import { handleApprovalRequest } from '../lib/approval-http.js';

/**
 * The approval function URL (AWS_IAM auth): an approver's signed POST becomes one decision.
 * The identity is the one Lambda verified, never a field of the body.
 */
export const handler = middy<LambdaFunctionURLEventWithIAMAuthorizer, APIGatewayProxyResultV2>({ timeoutEarlyInMillis: 0 }).handler(async (event) => {
  const res = await handleApprovalRequest(
    { callerArn: event.requestContext?.authorizer?.iam?.userArn, body: event.body ?? '', isBase64Encoded: event.isBase64Encoded },
    { ...common(), config, ledger: ledger(), approvals: approvals(), taskTokens: taskTokens() },
  );
  return { statusCode: res.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(res.body) };
});
