import middy from '@middy/core';
import type { APIGatewayProxyResultV2, Context, LambdaFunctionURLEventWithIAMAuthorizer } from 'aws-lambda';
import { approvals } from '../adapters/aws/approvals.js';
import { config } from '../adapters/aws/config.js';
import { common } from '../adapters/aws/env.js';
import { ledger } from '../adapters/aws/ledger.js';
import { taskTokens } from '../adapters/aws/task-tokens.js';
import { StsCallerIdentity } from '../adapters/sts-caller-identity.js';
import { handleApprovalUrlRequest } from '../lib/approval-url.js';
import { once } from '../lib/step-handler.js';

const identity = once(() => new StsCallerIdentity());

/**
 * The approval function URL: an approver's POST becomes one decision, or declares or ends a
 * freeze (approval-url.ts). Who they are is what STS
 * answers for the presigned GetCallerIdentity in the body (approval-http.ts); the function's
 * own account, from the ARN Lambda invoked it by, is the only account whose principals count.
 */
export const handler = middy<LambdaFunctionURLEventWithIAMAuthorizer, APIGatewayProxyResultV2, Error, Context>({ timeoutEarlyInMillis: 0 }).handler(async (event, context) => {
  const res = await handleApprovalUrlRequest(
    { urlSignerArn: event.requestContext?.authorizer?.iam?.userArn, account: context.invokedFunctionArn?.split(':')[4], body: event.body ?? '', isBase64Encoded: event.isBase64Encoded },
    { ...common(), config, ledger: ledger(), approvals: approvals(), taskTokens: taskTokens(), identity: identity() },
  );
  return { statusCode: res.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(res.body) };
});
