import type { EnvironmentConfig, PipelineConfig, ServiceConfig } from '../config.js';
import { InvalidInput } from '../errors.js';
import { MANUAL_ROLLBACK_EXAMPLE } from '../rollback-example.js';
import type { AlarmTags } from '../ports.js';
import { alarmToLookUp, fromAlarm, parseManualRollback, type RollbackRequest } from '../rollback-input.js';
import { isEventEnvelope } from '../triggers.js';

export type RollbackContext = RollbackRequest & { executionId: string; serviceConfig: ServiceConfig; environmentConfig: EnvironmentConfig };
export type NormaliseRollbackResult = ({ action: 'rollback' } & RollbackContext) | { action: 'ignore'; reason: string };

/**
 * The rollback machine's first state: console input or an alarm becomes one rollback request.
 * An alarm event without tags (AlarmTagsPropagation off) has them read through `alarmTags`
 * when given; tags name the service and environment before the config's `alarms` lists do. A
 * failed read does not stop a rollback the config's lists decide; otherwise it is thrown (a
 * transient one as DependencyUnavailable, which the state machine retries), since ignoring
 * the alarm could leave a bad version serving.
 */
export async function normaliseRollback({ input, executionId }: { input: unknown; executionId: string }, config: PipelineConfig, alarmTags?: AlarmTags): Promise<NormaliseRollbackResult> {
  let request: RollbackRequest;
  if (isEventEnvelope(input)) {
    if (input.source !== 'aws.cloudwatch' || input['detail-type'] !== 'CloudWatch Alarm State Change') return { action: 'ignore', reason: `the rollback machine does not handle ${input.source} ${input['detail-type']} events` };
    const arn = alarmTags ? alarmToLookUp(input) : undefined;
    let tags: Record<string, string> | undefined;
    let lookupFailed: unknown;
    if (arn) {
      try {
        tags = await alarmTags!.tagsOf(arn);
      } catch (err) {
        lookupFailed = err;
      }
    }
    const r = fromAlarm(input, config, tags);
    if ('ignore' in r) {
      if (lookupFailed !== undefined) throw lookupFailed;
      return { action: 'ignore', reason: r.ignore };
    }
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
