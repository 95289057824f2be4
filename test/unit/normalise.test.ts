import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { InvalidInput } from '../../lambdas/lib/errors.js';
import { normalise } from '../../lambdas/lib/steps/normalise.js';

const config = parseConfig({
  services: {
    api: { triggers: { github: 'acme/api' }, environments: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }] },
    edge: { prereleaseStopsAfter: null, environments: [{ name: 'dev' }, { name: 'prod' }] },
  },
});
const run = (input: unknown) => normalise({ input, executionId: 'exec-1' }, config);
const planOf = (input: unknown) => {
  const r = run(input);
  if (r.action !== 'release') throw new Error(r.reason);
  return r.plan.map((e) => e.name);
};

describe('normalise', () => {
  it('turns manual input into a release context with the whole plan and a config snapshot', () => {
    const r = run({ service: 'api', version: 'v1.4.0' });
    expect(r).toMatchObject({ action: 'release', releaseId: 'api@v1.4.0', executionId: 'exec-1', release: { trigger: { kind: 'manual' } }, approvals: null });
    expect(planOf({ service: 'api', version: 'v1.4.0' })).toEqual(['dev', 'staging', 'prod']);
  });

  it('honours a requested prefix of environments and refuses one out of order', () => {
    expect(planOf({ service: 'api', version: 'v1.4.0', environments: ['dev', 'staging'] })).toEqual(['dev', 'staging']);
    expect(() => run({ service: 'api', version: 'v1.4.0', environments: ['dev', 'prod'] })).toThrow(/environments\[1\]: "prod" is out of order/);
    expect(() => run({ service: 'api', version: 'v1.4.0', environments: ['qa'] })).toThrow(/no environment "qa"/);
  });

  it('stops pre-releases at staging unless the service says otherwise', () => {
    expect(planOf({ service: 'api', version: 'v1.4.0-rc.1' })).toEqual(['dev', 'staging']);
    expect(planOf({ service: 'edge', version: 'v1.4.0-rc.1' })).toEqual(['dev', 'prod']);
  });

  it('maps a Tag Pushed event to its service through the repository', () => {
    const r = run({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: 'acme/api', tag: 'refs/tags/v2.0.0', commit: 'c'.repeat(40) } });
    expect(r).toMatchObject({ action: 'release', release: { service: 'api', version: 'v2.0.0', commit: 'c'.repeat(40), trigger: { kind: 'tag-push' } } });
  });

  it('keeps who caused the release where the trigger says: the GitHub sender, CodeCommit\'s caller', () => {
    const pushed = run({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: 'acme/api', tag: 'v2.0.1', sender: 'alice-gh' } });
    expect(pushed).toMatchObject({ release: { initiator: { github: 'alice-gh' } } });
    const cc = parseConfig({ services: { api: { triggers: { codecommit: 'api' }, environments: [{ name: 'dev' }] } } });
    const caller = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Dev_0123/alice@acme.io';
    const created = normalise({ input: { source: 'aws.codecommit', 'detail-type': 'CodeCommit Repository State Change', detail: { event: 'referenceCreated', referenceType: 'tag', repositoryName: 'api', referenceName: 'v2.0.2', commitId: 'd'.repeat(40), callerUserArn: caller } }, executionId: 'x' }, cc);
    expect(created).toMatchObject({ release: { initiator: { arn: caller } } });
    // A manual input names nobody: Step Functions does not tell the execution who started it.
    expect(run({ service: 'api', version: 'v1.4.0' })).not.toHaveProperty('release.initiator');
  });

  it('reads a build id as a build of its version, not as a pre-release, so tag and image claim one release', () => {
    const config2 = parseConfig({ services: { api: { triggers: { github: 'acme/api', ecr: 'api' }, environments: [{ name: 'dev' }, { name: 'staging' }, { name: 'prod' }] } } });
    const image = (tag: string) =>
      normalise({ input: { source: 'aws.ecr', 'detail-type': 'ECR Image Action', detail: { 'action-type': 'PUSH', result: 'SUCCESS', 'repository-name': 'api', 'image-tag': tag } }, executionId: 'x' }, config2);
    const fromImage = image('v1.2.3-build.456-abc1234');
    expect(fromImage).toMatchObject({ action: 'release', releaseId: 'api@v1.2.3', release: { version: 'v1.2.3', trigger: { kind: 'image-push', detail: 'api (v1.2.3-build.456-abc1234)' } } });
    expect(fromImage.action === 'release' && fromImage.plan.map((e) => e.name)).toEqual(['dev', 'staging', 'prod']);
    expect(run({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: 'acme/api', tag: 'v1.2.3+build.456' } })).toMatchObject({ releaseId: 'api@v1.2.3' });
    // A pre-release's build stays a pre-release; a bare "-build" word is an ordinary pre-release.
    expect(image('v1.2.3-rc.1-build.7')).toMatchObject({ releaseId: 'api@v1.2.3-rc.1' });
    expect(image('v1.2.3-build')).toMatchObject({ releaseId: 'api@v1.2.3-build' });
    expect(image('v1.2.3-build.456-XYZ')).toMatchObject({ releaseId: 'api@v1.2.3-build.456-XYZ' });
  });

  it('ignores, with a reason, tags that are not versions and repositories it does not know', () => {
    expect(run({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: 'acme/api', tag: 'nightly' } })).toMatchObject({ action: 'ignore', reason: expect.stringContaining('not a version tag') });
    expect(run({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { repository: 'acme/other', tag: 'v1.0.0' } })).toMatchObject({ action: 'ignore', reason: expect.stringContaining('acme/other') });
  });

  it('fails an unknown service with the configured ones listed', () => {
    expect(() => run({ service: 'billing', version: 'v1.0.0' })).toThrow(InvalidInput);
    expect(() => run({ service: 'billing', version: 'v1.0.0' })).toThrow(/configured services: api, edge/);
  });
});
