import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveWebhook, sign } from '../../lambdas/lib/github-webhook.js';
import { ROOT, commitOf, demoConfig, startHarness, statesEntered, type Harness } from '../support/harness.js';

/** Every way a release or rollback starts, from the documented event shapes, through the deployed patterns. */

const event = (name: string) => JSON.parse(readFileSync(join(ROOT, 'examples', 'events', `${name}.json`), 'utf8')) as Record<string, any>;
const webhook = (name: string) => readFileSync(join(ROOT, 'examples', 'webhooks', `${name}.json`), 'utf8');
const SECRET = 's3cret';

let h: Harness;
beforeAll(async () => {
  // `paged`: a copy of demo whose prod alarm is paged-prod-errors, for the alarm test's own releases.
  // Each test that releases has its own service (trg-*), so no test's release is older or newer than another's, whatever the order.
  h = await startHarness({ config: demoConfig({ services: ['paged', 'trg-gh', 'trg-cc', 'trg-img', 'trg-ecr'] }) });
});
afterAll(async () => h?.close());

const releasesOf = async (version: string, service: string) => (await h.rt.deps.ledger.releases(service)).filter((r) => r.release.version === version);

describe('triggers', () => {
  it('a signed GitHub tag push becomes a Tag Pushed event that starts one release', async () => {
    const body = webhook('github-push-tag').replaceAll('v1.0.0', 'v4.0.0').replaceAll('1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d', commitOf('v4.0.0')).replaceAll('acme/demo', 'acme/trg-gh');
    await h.publish('v4.0.0', { service: 'trg-gh' });
    const received = receiveWebhook({ headers: { 'x-hub-signature-256': sign(body, SECRET), 'x-github-event': 'push' }, body }, SECRET, h.rt.options.config);
    expect(received.status).toBe(202);
    const { started } = h.rt.sendEvent({ source: received.event!.Source, 'detail-type': received.event!.DetailType, detail: received.event!.Detail });
    expect(started.map((s) => s.rule)).toEqual(['tag-pushed']);
    expect((await started[0]!.execution.done).status).toBe('SUCCEEDED');
    expect(await releasesOf('v4.0.0', 'trg-gh')).toHaveLength(1);
    expect((await releasesOf('v4.0.0', 'trg-gh'))[0]!.release.commit).toBe(commitOf('v4.0.0'));
  });

  it('a forged GitHub signature puts nothing on the bus', () => {
    const body = webhook('github-push-tag');
    expect(receiveWebhook({ headers: { 'x-hub-signature-256': sign(body, 'forged'), 'x-github-event': 'push' }, body }, SECRET, h.rt.options.config)).toEqual({ status: 401, message: 'invalid or missing X-Hub-Signature-256' });
  });

  it('a GitHub branch push is ignored with the reason', () => {
    const body = webhook('github-push-branch');
    const r = receiveWebhook({ headers: { 'x-hub-signature-256': sign(body, SECRET), 'x-github-event': 'push' }, body }, SECRET, h.rt.options.config);
    expect(r).toEqual({ status: 202, message: 'ignored: a branch push' });
  });

  it('a CodeCommit tag reference starts the release', async () => {
    const e = event('codecommit-tag-created');
    e.detail.referenceName = 'v4.1.0';
    e.detail.referenceFullName = 'refs/tags/v4.1.0';
    e.detail.commitId = commitOf('v4.1.0');
    e.detail.repositoryName = 'trg-cc';
    await h.publish('v4.1.0', { service: 'trg-cc' });
    const { started } = h.rt.sendEvent(e);
    expect(started.map((s) => s.rule)).toEqual(['codecommit-tag-created']);
    const s = await started[0]!.execution.done;
    expect(s.status).toBe('SUCCEEDED');
    expect((await releasesOf('v4.1.0', 'trg-cc'))[0]!.release.trigger).toEqual({ kind: 'codecommit-tag', detail: 'trg-cc' });
  });

  it('a tag push and an image push of one version run one release, which learns the image digest', async () => {
    await h.publish('v4.2.0', { service: 'trg-img' });
    const tag = event('tag-pushed');
    tag.detail.tag = 'v4.2.0';
    tag.detail.commit = commitOf('v4.2.0');
    tag.detail.repository = 'acme/trg-img';
    const image = event('ecr-image-push');
    image.detail['image-tag'] = 'v4.2.0';
    image.detail['repository-name'] = 'trg-img';
    const a = h.rt.sendEvent(tag);
    const b = h.rt.sendEvent(image);
    expect(b.started.map((s) => s.rule)).toEqual(['ecr-image-pushed']);
    const runs = await Promise.all([a.started[0]!.execution.done, b.started[0]!.execution.done]);
    expect(runs.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(runs.filter((r) => statesEntered(r.history).includes('Duplicate ignored'))).toHaveLength(1);
    const [only] = await releasesOf('v4.2.0', 'trg-img');
    expect(only!.release.imageDigest).toBe(image.detail['image-digest']);
    expect((await h.rt.deps.ledger.decisions('trg-img', 'v4.2.0')).filter((d) => d.step === 'deploy')).toHaveLength(3);
  });

  it('a failed ECR push and an alarm going to OK match no rule, and say why', () => {
    const failed = h.rt.sendEvent(event('ecr-image-push-failed'));
    expect(failed.started).toEqual([]);
    expect(failed.unmatched).toBe('rule ecr-image-pushed: detail.result is "FAILURE", expected one of ["SUCCESS"]');
    const ok = h.rt.sendEvent(event('alarm-state-ok'));
    expect(ok.started).toEqual([]);
    expect(ok.unmatched).toContain('detail.state.value');
  });

  it('an alarm going to ALARM starts the rollback machine once', async () => {
    const service = 'paged';
    for (const version of ['v4.1.0', 'v4.2.0']) {
      await h.publish(version, { service });
      expect((await h.rt.startExecution('release', { service, version }).done).status).toBe('SUCCEEDED');
    }
    const alarm = event('alarm-state-alarm');
    alarm.detail.alarmName = 'paged-prod-errors';
    alarm.resources = alarm.resources.map((arn: string) => arn.replace(/:alarm:demo-prod-errors$/, ':alarm:paged-prod-errors'));
    const { started } = h.rt.sendEvent(alarm);
    expect(started.map((s) => s.rule)).toEqual(['alarm-to-rollback']);
    const s = await started[0]!.execution.done;
    expect(s.machine).toBe('rollback');
    expect(s.status).toBe('SUCCEEDED');
    expect((await h.rt.deps.ledger.getEnvironment(service, 'prod'))!.version).toBe('v4.1.0');
  });

  it('a non-version tag is ignored with a reason, not a failed execution', async () => {
    const e = event('tag-pushed');
    e.detail.tag = 'nightly-2026-11-23';
    const s = await h.rt.sendEvent(e).started[0]!.execution.done;
    expect(s.status).toBe('SUCCEEDED');
    expect(s.output).toMatchObject({ action: 'ignore', reason: expect.stringContaining('not a version tag') });
  });

  it('malformed events are refused before anything starts', () => {
    for (const bad of [null, [], 'x', { source: 'tagflow' }, { source: 'tagflow', 'detail-type': 'Tag Pushed', detail: 'v1' }]) {
      expect(() => h.rt.sendEvent(bad)).toThrow(/not an EventBridge event/);
    }
  });

  it('1,000 hostile inputs to the release machine are rejected with a clear error and never release', async () => {
    const before = (await h.rt.deps.ledger.releases('demo')).length;
    const samples = fc.sample(
      fc.oneof(
        fc.anything(),
        fc.record({ service: fc.oneof(fc.string(), fc.constantFrom('demo', '../demo', 'demo/../x', '/etc', 'demo\u0000')), version: fc.oneof(fc.string(), fc.constantFrom('v1.0.0/../../x', '../v1.0.0', 'v1.0.0\n', '1.2')) }, { requiredKeys: [] }),
        fc.record({ source: fc.constant('tagflow'), 'detail-type': fc.constant('Tag Pushed'), detail: fc.record({ repository: fc.constantFrom('acme/demo', '../x'), tag: fc.oneof(fc.string(), fc.constantFrom('v1.0.0/../..', 'refs/tags/../v1')), commit: fc.string() }, { requiredKeys: [] }) }),
      ),
      1000,
    );
    const { normalise } = await import('../../lambdas/lib/steps/normalise.js');
    let rejected = 0;
    let ignored = 0;
    for (const input of samples) {
      try {
        const r = normalise({ input, executionId: 'fuzz' }, h.rt.options.config);
        // The only inputs that may pass are exact, valid requests; their keys stay in their prefix.
        if (r.action === 'release') {
          expect(r.release.service).toBe('demo');
          expect(r.release.version).toMatch(/^v\d+\.\d+\.\d+/);
          expect(r.release.version).not.toMatch(/[/\\\u0000-\u001f]|\.\./);
        } else ignored++;
      } catch (err) {
        expect((err as Error).name).toBe('InvalidInput');
        // Names the field (quoted when it is not a plain name), then says what is wrong.
        expect((err as Error).message).toMatch(/^(\(input\)|"(?:[^"\\]|\\.)*"|[\w$.[\]-]+): \S/);
        expect((err as Error).message).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
        rejected++;
      }
    }
    expect(rejected + ignored).toBeGreaterThan(900);
    expect((await h.rt.deps.ledger.releases('demo')).length).toBe(before);
  });

  it('an image push of a build checks the commit its tag names against the build manifest', async () => {
    await h.publish('v4.3.0', { service: 'trg-ecr' });
    await h.publish('v4.4.0', { service: 'trg-ecr' });
    const imageOf = (tag: string) => {
      const image = event('ecr-image-push');
      image.detail['image-tag'] = tag;
      image.detail['repository-name'] = 'trg-ecr';
      return image;
    };
    const wrong = await h.rt.sendEvent(imageOf('v4.3.0-build.7-fffffff')).started[0]!.execution.done;
    expect(wrong).toMatchObject({ status: 'FAILED', error: 'ArtifactIntegrityError' });
    expect(wrong.cause).toContain(`the build id names commit fffffff but the build was made from commit ${commitOf('v4.3.0').slice(0, 12)}`);
    expect(await h.promotedAnywhere('trg-ecr', 'v4.3.0')).toEqual([]);

    const right = await h.rt.sendEvent(imageOf(`v4.4.0-build.8-${commitOf('v4.4.0').slice(0, 7)}`)).started[0]!.execution.done;
    expect(right.status).toBe('SUCCEEDED');
    expect((await releasesOf('v4.4.0', 'trg-ecr'))[0]!.release).toMatchObject({ version: 'v4.4.0', trigger: { kind: 'image-push', detail: `trg-ecr (v4.4.0-build.8-${commitOf('v4.4.0').slice(0, 7)})` } });
  });
});
