import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { ConfigError } from '../../lambdas/lib/errors.js';
import { planTrain } from '../../lambdas/lib/train.js';

const env = (name: string) => ({ name, smoke: [] });
const svc = (envs = ['dev', 'staging', 'prod']) => ({ target: { type: 'local' }, environments: envs.map(env) });
const base = { services: { auth: svc(), profile: svc(), content: svc(), edge: svc(['dev', 'prod']) } };

function problems(trains: unknown): string[] {
  try {
    parseConfig({ ...base, trains });
    return [];
  } catch (err) {
    return (err as ConfigError).issues.map((i) => `${i.field}: ${i.problem}`);
  }
}

describe('trains config', () => {
  it('plans groups per environment: listed by default, alphabetical, or explicit groups', () => {
    const config = parseConfig({ ...base, trains: { accounts: { services: ['profile', 'auth', 'content'], order: { staging: 'alphabetical', prod: [['auth'], ['profile', 'content']] }, continueOnFailure: { staging: true } } } });
    expect(planTrain('accounts', config)).toEqual({
      maxConcurrency: 1,
      environments: [
        { name: 'dev', continueOnFailure: false, groups: [['profile'], ['auth'], ['content']] },
        { name: 'staging', continueOnFailure: true, groups: [['auth'], ['content'], ['profile']] },
        { name: 'prod', continueOnFailure: false, groups: [['auth'], ['profile', 'content']] },
      ],
    });
  });

  it('names the field of each mistake', () => {
    expect(problems({ accounts: { services: ['auth', 'nope', 'edge', 'auth'] } })).toEqual([
      'trains.accounts.services[1]: no service "nope" in services; configured: auth, profile, content, edge',
      'trains.accounts.services[2]: "edge" has environments ["dev","prod"] but "auth" has ["dev","staging","prod"]: the members of a train go through the same environments in the same order',
      'trains.accounts.services[3]: "auth" appears twice',
    ]);
    expect(problems({ accounts: { services: ['auth', 'profile'], order: { prod: [['auth'], ['auth', 'content']], qa: 'alphabetical' }, continueOnFailure: { prod: true } } })).toEqual([
      'trains.accounts.order.prod[1][0]: "auth" is already in group 0: each member deploys once per environment',
      'trains.accounts.order.prod[1][1]: "content" is not a member of this train (auth, profile)',
      'trains.accounts.order.prod: the groups leave out profile: every member must be in exactly one group',
      'trains.accounts.order.qa: no environment "qa" in this train; its environments are ["dev","staging","prod"]',
      'trains.accounts.continueOnFailure.prod: "prod" is the train\'s last environment (production): a failure there stops the rest of the train; remove it or set false',
    ]);
    expect(problems({ accounts: { services: ['auth'], maxConcurency: 2 } })[0]).toBe('trains.accounts.maxConcurency: unknown field; did you mean "maxConcurrency"?');
  });
});
