import type { PipelineConfig, ServiceConfig } from './config.js';
import { listIssues, type FieldIssue } from './errors.js';
import { AWS_APPROVER_FORMAT, parsePrincipal } from './approver-principal.js';
import { fillNames } from './targets.js';

/**
 * Deploy-only checks: what a valid pipeline config (config.ts, which the local runtime also
 * accepts) must satisfy as well to work in AWS. Pure: `infra/app.ts` runs them when it builds
 * the stack and refuses the config, naming every field, before anything is synthesised.
 *
 * To add one: write a `DeployCheck` (config and what synth knows about the stack → problems,
 * each naming its field the way config.ts does, `services.demo.environments[2].target`) and
 * list it in `DEPLOY_CHECKS`.
 */

export interface DeployContext {
  /**
   * The stack's region, when synth knows it (`env.region`, or `CDK_DEFAULT_REGION` from the CLI's
   * profile). Undefined for an env-agnostic stack: checks that need the region are skipped.
   */
  region?: string;
  /** The stack's account, when synth knows it: approvers must belong to it. */
  account?: string;
  /** The names of the alarms the stack puts on the pipeline itself (infra/monitoring.ts). */
  ownAlarmNames?: readonly string[];
}

export type DeployCheck = (config: PipelineConfig, context: DeployContext) => FieldIssue[];

export class NotDeployable extends Error {
  override readonly name = 'NotDeployable';
  constructor(
    readonly issues: readonly FieldIssue[],
    readonly source: string,
  ) {
    super(`${source} cannot be deployed to AWS: ${listIssues(issues)}`);
  }
}

/** Where an environment's target is declared: its own `target`, or its service's. */
function targetField(service: string, svc: ServiceConfig, index: number): string {
  return svc.environments[index]!.target ? `services.${service}.environments[${index}].target` : `services.${service}.target`;
}

/** Issues for the same field (a service target several environments inherit) become one, naming them. */
function byField(found: { field: string; environment: string; problem: (environments: string) => string }[]): FieldIssue[] {
  const grouped = new Map<string, { environments: string[]; problem: (environments: string) => string }>();
  for (const f of found) {
    const g = grouped.get(f.field);
    if (g) g.environments.push(f.environment);
    else grouped.set(f.field, { environments: [f.environment], problem: f.problem });
  }
  return [...grouped].map(([field, g]) => ({ field, problem: g.problem(g.environments.join(', ')) }));
}

/** A `local` target deploys to the local fleet of `tagflow local`: in AWS it would deploy nothing. */
export const localTargets: DeployCheck = (config) => {
  const found: Parameters<typeof byField>[0] = [];
  for (const [service, svc] of Object.entries(config.services)) {
    svc.environments.forEach((env, i) => {
      if ((env.target ?? svc.target).type !== 'local') return;
      found.push({
        field: targetField(service, svc, i),
        environment: env.name,
        problem: (environments) =>
          `type "local" (also what a service without a "target" gets) runs only in the local runtime (tagflow local, npm run demo), and ${service}'s ${environments} would deploy nothing in AWS; give it a "lambda-alias" target, e.g. {"type": "lambda-alias", "functionName": "{service}-{environment}", "alias": "live"}, and deploy that config with cdk deploy -c config=FILE`,
      });
    });
  }
  return byField(found);
};

/** The region of a Lambda function ARN, or of an ECR repository URI (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`). */
const functionRegion = (functionName: string): string | undefined => (functionName.startsWith('arn:') ? functionName.split(':')[3] : undefined);
const repositoryRegion = (uri: string): string | undefined => uri.split('/')[0]!.split('.')[3];

/**
 * A lambda-alias target in another region than the stack's: the steps' Lambda and CloudWatch
 * clients work in the stack's region (where the function runs), so a function elsewhere is
 * neither found nor measured, and Lambda deploys images only from its own region's ECR.
 * Skipped when synth does not know the stack's region.
 */
export const targetRegions: DeployCheck = (config, { region }) => {
  if (!region) return [];
  const found: Parameters<typeof byField>[0] = [];
  for (const [service, svc] of Object.entries(config.services)) {
    svc.environments.forEach((env, i) => {
      const target = env.target ?? svc.target;
      if (target.type !== 'lambda-alias') return;
      const at = { service, environment: env.name };
      const field = targetField(service, svc, i);
      const fnRegion = functionRegion(fillNames(target.functionName, at));
      if (fnRegion !== undefined && fnRegion !== region) {
        found.push({
          field: `${field}.functionName`,
          environment: env.name,
          problem: (environments) =>
            `names a function in ${fnRegion} (for ${service}'s ${environments}), but the stack deploys to ${region}; the pipeline's steps deploy, invoke and measure functions in the stack's own region only: deploy the stack to ${fnRegion} (cdk deploy with that region), or name a function in ${region}`,
        });
      }
      const imageRegion = target.imageRepository ? repositoryRegion(fillNames(target.imageRepository, at)) : undefined;
      if (imageRegion !== undefined && imageRegion !== (fnRegion ?? region)) {
        found.push({
          field: `${field}.imageRepository`,
          environment: env.name,
          problem: (environments) =>
            `is in ${imageRegion} (for ${service}'s ${environments}), but the function is in ${fnRegion ?? region}; Lambda deploys an image only from an ECR repository in the function's own region: replicate the repository to ${fnRegion ?? region} and name that one`,
        });
      }
    });
  }
  return byField(found);
};

/** An alarm on the pipeline itself must not roll a service back (nor can the rule tell it apart if the config lists it). */
export const ownAlarms: DeployCheck = (config, { ownAlarmNames = [] }) => {
  const own = new Set(ownAlarmNames);
  const issues: FieldIssue[] = [];
  for (const [service, svc] of Object.entries(config.services)) {
    svc.environments.forEach((env, i) => {
      env.alarms.forEach((alarm, j) => {
        if (!own.has(alarm)) return;
        issues.push({
          field: `services.${service}.environments[${i}].alarms[${j}]`,
          problem: `"${alarm}" is one of the alarms the stack puts on the pipeline itself; a failing pipeline must not roll ${service} back: list the alarms that watch ${service} in ${env.name}`,
        });
      });
    });
  }
  return issues;
};

/**
 * In AWS an approver is the principal STS verified (approver-principal.ts): a bare name, which
 * identifies a person only in the local runtime, would match nobody, and a principal of another
 * account is refused at every decision.
 */
export const approverPrincipals: DeployCheck = (config, { account }) =>
  [
    ...(config.policy?.approvers ?? []).map((entry, i) => ({ entry, field: `policy.approvers[${i}]` })),
    // An environment's own sign-off (environments[].approval.from): the same principals, or nobody can approve it in AWS.
    ...Object.entries(config.services).flatMap(([name, svc]) =>
      svc.environments.flatMap((env, e) => (env.approval?.from ?? []).map((entry, i) => ({ entry, field: `services.${name}.environments[${e}].approval.from[${i}]` }))),
    ),
  ].flatMap(({ entry, field }): FieldIssue[] => {
    const p = parsePrincipal(entry);
    if (p.kind === 'local-name') return [{ field, problem: `"${entry}" is a bare name, which identifies an approver only in the local runtime; in AWS give ${AWS_APPROVER_FORMAT}` }];
    if (account && p.account !== account) return [{ field, problem: `${entry} is in account ${p.account}, but the stack deploys to ${account}; only principals of the pipeline's own account can approve` }];
    return [];
  });

/** Every deploy-only check, in the order their problems are reported. */
export const DEPLOY_CHECKS: readonly DeployCheck[] = [localTargets, targetRegions, ownAlarms, approverPrincipals];

/** The problems that keep the config from working in AWS; empty when it can be deployed. */
export function deployProblems(config: PipelineConfig, context: DeployContext = {}, checks: readonly DeployCheck[] = DEPLOY_CHECKS): FieldIssue[] {
  return checks.flatMap((check) => check(config, context));
}
