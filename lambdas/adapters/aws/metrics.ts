import type { TargetConfig } from '../../lib/config.js';
import type { MetricsSource } from '../../lib/ports.js';

export const metrics = (target: TargetConfig): MetricsSource => {
  throw new Error(`canary metrics for ${target.type} targets in AWS need the CloudWatch adapter, which is not built yet; canary environments run in the local runtime only`);
};
