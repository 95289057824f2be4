import type { PipelineConfig, ServiceConfig } from '../config.js';
import { InvalidInput } from '../errors.js';
import { MANUAL_RELEASE_EXAMPLE, manualToRequest, parseManualRelease } from '../input.js';
import { fromEvent, isEventEnvelope } from '../triggers.js';
import { releaseIdOf, type ReleaseContext, type ReleaseRequest } from '../types.js';
import { SERVICE_PATTERN, isPrerelease, versionProblem } from '../version.js';

export type NormaliseResult = ({ action: 'release' } & ReleaseContext) | { action: 'ignore'; reason: string };

export interface NormaliseInput {
  input: unknown;
  executionId: string;
}

/** Step 1: whatever started the execution becomes one release context, or a clear error. */
export function normalise({ input, executionId }: NormaliseInput, config: PipelineConfig): NormaliseResult {
  let request: ReleaseRequest;
  let environments: string[] | undefined;
  if (isEventEnvelope(input)) {
    const result = fromEvent(input, config);
    if ('ignore' in result) return { action: 'ignore', reason: result.ignore };
    request = result.request;
    // An event's fields come from outside: hold them to the same rules as typed input.
    const problem = !SERVICE_PATTERN.test(request.service)
      ? `service name ${JSON.stringify(request.service.slice(0, 80))} is not valid`
      : request.commit !== undefined && !/^[0-9a-f]{40}$/.test(request.commit)
        ? `commit ${JSON.stringify(request.commit.slice(0, 80))} is not a 40-character hex SHA`
        : versionProblem(request.version);
    if (problem) return { action: 'ignore', reason: problem };
  } else {
    const manual = parseManualRelease(input);
    request = manualToRequest(manual);
    environments = manual.environments;
  }

  const service = config.services[request.service];
  if (!service) {
    const known = Object.keys(config.services);
    throw new InvalidInput(
      [{ field: 'service', problem: `no service "${request.service}" in the pipeline config; configured services: ${known.join(', ') || '(none)'}` }],
      MANUAL_RELEASE_EXAMPLE,
    );
  }
  return {
    action: 'release',
    releaseId: releaseIdOf(request.service, request.version),
    executionId,
    release: request,
    service,
    plan: request.train ? trainLegPlan(service, environments) : planEnvironments(service, request.version, environments),
    approvals: config.policy ? { approvers: config.policy.approvers, approvalTimeoutHours: config.policy.approvalTimeoutHours } : null,
  };
}

/** A train leg goes through exactly one environment: the train machine moves every member on together. */
function trainLegPlan(service: ServiceConfig, requested: string[] | undefined): ServiceConfig['environments'] {
  const env = requested?.length === 1 ? service.environments.find((e) => e.name === requested[0]) : undefined;
  if (!env) {
    const problem = `a train leg names exactly one of this service's environments ${JSON.stringify(service.environments.map((e) => e.name))}; got ${JSON.stringify(requested ?? null)}`;
    throw new InvalidInput([{ field: 'environments', problem }], '{"service":"…","version":"…","environments":["staging"],"train":{"name":"…","execution":"…"}}');
  }
  return [env];
}

/** The environments to go through: all of them in order, a requested prefix, or up to the pre-release stop. */
export function planEnvironments(service: ServiceConfig, version: string, requested?: string[]): ServiceConfig['environments'] {
  const all = service.environments;
  const order = all.map((e) => e.name);
  let plan = all;
  if (requested) {
    requested.forEach((name, i) => {
      if (order[i] !== name) {
        const problem = order.includes(name)
          ? `"${name}" is out of order: environments must be a prefix of ${JSON.stringify(order)}, so position ${i} must be "${order[i] ?? '(nothing)'}"`
          : `no environment "${name}"; this service has ${JSON.stringify(order)}`;
        throw new InvalidInput([{ field: `environments[${i}]`, problem }], `{"service":"…","version":"…","environments":${JSON.stringify(order.slice(0, 2))}}`);
      }
    });
    plan = all.slice(0, requested.length);
  }
  const stopAfter = service.prereleaseStopsAfter === undefined ? 'staging' : service.prereleaseStopsAfter;
  if (isPrerelease(version) && stopAfter !== null) {
    const stop = order.indexOf(stopAfter);
    if (stop >= 0) plan = plan.slice(0, stop + 1);
  }
  return plan;
}
