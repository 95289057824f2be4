import type { Stack } from 'aws-cdk-lib';
import type { PipelineConfig } from '../lambdas/lib/config.js';
import { targetImageRepositoryArns } from './deploy-targets.js';

/**
 * The ECR repositories the vulnerability gate may read scans of (issue 17): each service's ECR
 * trigger (a repository of this account and region, as the push event names it) and the
 * image targets' repositories, where the gate finds an image that came without a push event.
 */
export function scanRepositoryArns(stack: Stack, config: PipelineConfig): string[] {
  const triggers = Object.values(config.services).flatMap((s) => (s.triggers.ecr ? [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: s.triggers.ecr })] : []));
  return [...new Set([...triggers, ...targetImageRepositoryArns(stack, config)])].sort();
}
