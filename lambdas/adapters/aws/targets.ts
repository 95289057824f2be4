import { LambdaClient } from '@aws-sdk/client-lambda';
import type { TargetConfig } from '../../lib/config.js';
import type { DeployTarget, FunctionInvoker } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { LambdaAliasTarget } from '../lambda-alias-target.js';
import { LambdaInvoker } from '../lambda-invoker.js';

const lambda = once(() => new LambdaClient({}));
const aliasTarget = once(() => new LambdaAliasTarget(lambda()));

export const targets = (target: TargetConfig): DeployTarget => {
  if (target.type === 'lambda-alias') return aliasTarget();
  throw new Error(`deploy target "${target.type}" runs only in the local runtime; in AWS use "lambda-alias"`);
};

export const invoker = once((): FunctionInvoker => new LambdaInvoker(lambda()));
