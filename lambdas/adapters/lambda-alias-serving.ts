import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { TargetConfig } from '../lib/config.js';
import type { Serving, ServingReader } from '../lib/drift.js';
import { fillNames } from '../lib/targets.js';
import { call } from './transient.js';

/**
 * What a Lambda alias serves, for the drift check: the version it points at and, for a weighted
 * alias, the second version's share (Lambda's RoutingConfig weight 0–1, as a percentage).
 */
export class LambdaAliasServing implements ServingReader {
  constructor(private readonly lambda: LambdaClient) {}

  async serving(service: string, environment: string, target: TargetConfig): Promise<Serving | undefined> {
    if (target.type !== 'lambda-alias') return undefined;
    const fn = fillNames(target.functionName, { service, environment });
    const alias = fillNames(target.alias, { service, environment });
    let res;
    try {
      res = await call(`Lambda GetAlias ${fn}:${alias}`, () => this.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias })));
    } catch (err) {
      if ((err as { name?: string }).name === 'ResourceNotFoundException') return {};
      throw err;
    }
    const [split] = Object.entries(res.RoutingConfig?.AdditionalVersionWeights ?? {});
    return { ...(res.FunctionVersion ? { ref: res.FunctionVersion } : {}), ...(split ? { split: { ref: split[0], weight: Math.round(split[1] * 10000) / 100 } } : {}) };
  }
}
