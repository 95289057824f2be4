import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { PipelineConfig } from '../lambdas/lib/config.js';
import { fillNames, targetFor } from '../lambdas/lib/targets.js';

export interface LambdaAliasTarget {
  service: string;
  environment: string;
  /** `functionName` with `{service}` and `{environment}` filled in: a name or a full ARN. */
  functionName: string;
  alias: string;
  /** `imageRepository` filled in likewise: the function is packaged as an image. */
  imageRepository?: string;
}

/** Every `lambda-alias` deploy target the config names, one per service+environment. */
export function lambdaAliasTargets(config: PipelineConfig): LambdaAliasTarget[] {
  const out: LambdaAliasTarget[] = [];
  for (const [service, svc] of Object.entries(config.services)) {
    for (const env of svc.environments) {
      const target = targetFor(svc, env);
      if (target.type !== 'lambda-alias') continue;
      const fill = (template: string) => fillNames(template, { service, environment: env.name });
      out.push({ service, environment: env.name, functionName: fill(target.functionName), alias: target.alias, ...(target.imageRepository ? { imageRepository: fill(target.imageRepository) } : {}) });
    }
  }
  return out;
}

/**
 * The unqualified function ARN of a target: a full ARN as given, or a name in this stack's
 * account and region. (A name with a `:qualifier` keeps only the function part: the target
 * addresses versions and its alias itself.)
 */
export function functionArnOf(stack: Stack, functionName: string): string {
  if (functionName.startsWith('arn:')) return functionName.split(':').slice(0, 7).join(':');
  return stack.formatArn({ service: 'lambda', resource: 'function', resourceName: functionName.split(':')[0]!, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/** Distinct unqualified ARNs of all the config's lambda-alias targets, sorted for a stable template. */
export function targetFunctionArns(stack: Stack, config: PipelineConfig): string[] {
  return [...new Set(lambdaAliasTargets(config).map((t) => functionArnOf(stack, t.functionName)))].sort();
}

/** `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME` → the repository's ARN (the config checked the form). */
export function repositoryArnOf(stack: Stack, uri: string): string {
  const [host, ...name] = uri.split('/');
  const [account, , , region] = host!.split('.');
  return stack.formatArn({ service: 'ecr', account: account!, region: region!, resource: 'repository', resourceName: name.join('/') });
}

/** Distinct ARNs of the ECR repositories the config's image-packaged targets deploy from, sorted. */
export function targetImageRepositoryArns(stack: Stack, config: PipelineConfig): string[] {
  return [...new Set(lambdaAliasTargets(config).flatMap((t) => (t.imageRepository ? [repositoryArnOf(stack, t.imageRepository)] : [])))].sort();
}

/** Distinct unqualified ARNs of the functions the config's migrations invoke, sorted. */
export function migrationFunctionArns(stack: Stack, config: PipelineConfig): string[] {
  const arns = Object.entries(config.services).flatMap(([service, svc]) =>
    svc.environments.flatMap((env) => (env.migrations ?? []).map((m) => functionArnOf(stack, fillNames(m.function, { service, environment: env.name })))),
  );
  return [...new Set(arns)].sort();
}
