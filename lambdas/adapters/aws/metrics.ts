import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { TargetConfig } from '../../lib/config.js';
import type { MetricsSource } from '../../lib/ports.js';
import { once } from '../../lib/step-handler.js';
import { CloudWatchMetrics } from '../cloudwatch-metrics.js';

const cloudwatch = once(() => new CloudWatchMetrics(new CloudWatchClient({})));

export const metrics = (target: TargetConfig): MetricsSource => {
  if (target.type === 'lambda-alias') return cloudwatch();
  throw new Error(`canary metrics for "${target.type}" targets come from the local runtime; in AWS use "lambda-alias"`);
};
