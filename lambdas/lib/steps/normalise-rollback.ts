import type { EnvironmentConfig, PipelineConfig, ServiceConfig } from '../config.js';
import { InvalidInput } from '../errors.js';
import { MANUAL_ROLLBACK_EXAMPLE } from '../rollback-example.js';
import { fromAlarm, parseManualRollback, type RollbackRequest } from '../rollback-input.js';
import { isEventEnvelope } from '../triggers.js';

export type RollbackContext = RollbackRequest & { executionId: string; serviceConfig: ServiceConfig; environmentConfig: EnvironmentConfig };
export type NormaliseRollbackResult = ({ action: 'rollback' } & RollbackContext) | { action: 'ignore'; reason: string };

/** The rollback machine's first state: console input or an alarm becomes one rollback request. */
export function normaliseRollback({ input, executionId }: { input: unknown; executionId: string }, config: PipelineConfig): NormaliseRollbackResult {
  let request: RollbackRequest;
  if (isEventEnvelope(input)) {
    if (input.source !== 'aws.cloudwatch' || input['detail-type'] !== 'CloudWatch Alarm State Change') return { action: 'ignore', reason: `the rollback machine does not handle ${input.source} ${input['detail-type']} events` };
    const r = fromAlarm(input, config);
    if ('ignore' in r) return { action: 'ignore', reason: r.ignore };
    request = r;
  } else {
    request = parseManualRollback(input);
  }
  const serviceConfig = config.services[request.service];
  if (!serviceConfig) throw new InvalidInput([{ field: 'service', problem: `no service "${request.service}" in the pipeline config; configured: ${Object.keys(config.services).join(', ')}` }], MANUAL_ROLLBACK_EXAMPLE);
  const environmentConfig = serviceConfig.environments.find((e) => e.name === request.environment);
  if (!environmentConfig) throw new InvalidInput([{ field: 'environment', problem: `${request.service} has no environment "${request.environment}"; it has ${serviceConfig.environments.map((e) => e.name).join(', ')}` }], MANUAL_ROLLBACK_EXAMPLE);
  return { action: 'rollback', ...request, executionId, serviceConfig, environmentConfig };
}
