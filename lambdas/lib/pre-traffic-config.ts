import type { FieldIssue } from './errors.js';
import type { ServiceConfig } from './config.js';
import { targetFor } from './targets.js';

/**
 * Pre-traffic checks must reach the new version alone, before the live address serves it: an
 * http check by `path` (joined to the staged version's own address, which only the local target
 * has), an `invoke` check on a lambda-alias target (the published version's qualified ARN). An
 * absolute `url`, or an http check on a Lambda alias, would test the live version instead.
 */
export function preTrafficIssues(services: Record<string, ServiceConfig>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [name, svc] of Object.entries(services)) {
    svc.environments.forEach((env, i) => {
      const target = targetFor(svc, env);
      (env.preTraffic ?? []).forEach((check, j) => {
        const field = `services.${name}.environments[${i}].preTraffic[${j}]`;
        if (check.type === 'invoke') {
          if (target.type !== 'lambda-alias') issues.push({ field, problem: `an "invoke" check needs a lambda-alias target; ${env.name} uses ${target.type}: use an http check with a "path"` });
        } else if (target.type === 'lambda-alias') {
          issues.push({ field, problem: `an http check before traffic would reach the alias, which still serves the live version; use {"type": "invoke"} to call the new version directly` });
        } else if (check.url !== undefined) {
          issues.push({ field: `${field}.url`, problem: 'an absolute url reaches what serves now, not the new version; give a "path", which is joined to the new version\'s own address' });
        }
      });
    });
  }
  return issues;
}
