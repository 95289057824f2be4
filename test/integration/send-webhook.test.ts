import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliInputError } from '../../local/cli/cli-errors.js';
import { eventsFromFile } from '../../local/cli/input-files.js';
import { githubEventOf, localWebhookDeps, sendWebhook } from '../../local/cli/send-webhook.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../local/runtime/aws-services.js';
import { ROOT, commitOf, demoConfig, startHarness, type Harness } from '../support/harness.js';

/**
 * Issue 14: every trigger in the README can be tried locally. A GitHub webhook goes through the
 * receiver function's own handler (signature, filters, once per delivery) onto the local bus;
 * the README's put-events entry starts the same release.
 */

const SECRET = 'local-secret';
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: demoConfig({ services: ['hooked', 'ci'] }) });
});
afterAll(async () => h?.close());

const body = (name: string, repository: string, version: string) =>
  readFileSync(join(ROOT, 'examples', 'webhooks', `${name}.json`), 'utf8')
    .replaceAll('acme/demo', repository)
    .replaceAll('v1.0.0', version)
    .replaceAll('1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d', commitOf(version));

describe('tagflow local send-webhook', () => {
  it('a signed tag push starts one release through the real receiver; its redelivery starts nothing', async () => {
    await h.publish('v5.0.0', { service: 'hooked' });
    const deps = await localWebhookDeps(h.rt);
    const push = body('github-push-tag', 'acme/hooked', 'v5.0.0');
    const first = await sendWebhook(deps, push, SECRET, { deliveryId: 'delivery-5' });
    expect(first).toMatchObject({ event: 'push', status: 202, message: 'release of hooked v5.0.0 requested' });
    expect(first.started.map((s) => s.rule)).toEqual(['tag-pushed']);
    const done = await first.started[0]!.execution.done;
    expect(done.status).toBe('SUCCEEDED');
    const [r] = await h.rt.deps.ledger.releases('hooked');
    expect(r!.release).toMatchObject({ version: 'v5.0.0', commit: commitOf('v5.0.0'), trigger: { kind: 'tag-push' } });

    const replay = await sendWebhook(deps, push, SECRET, { deliveryId: 'delivery-5' });
    expect(replay).toMatchObject({ status: 202, message: 'duplicate: delivery delivery-5 was accepted before; nothing put', started: [] });
  });

  it('a wrong secret is 401 and a branch push is ignored with the reason; neither starts anything', async () => {
    const deps = await localWebhookDeps(h.rt);
    const push = body('github-push-tag', 'acme/hooked', 'v5.1.0');
    expect(await sendWebhook(deps, push, SECRET, { signWith: 'another' })).toMatchObject({ status: 401, started: [] });
    expect(await sendWebhook(deps, body('github-push-branch', 'acme/hooked', 'v5.1.0'), SECRET)).toMatchObject({ status: 202, message: 'ignored: a branch push', started: [] });
    expect((await h.rt.deps.ledger.releases('hooked')).map((r) => r.release.version)).not.toContain('v5.1.0');
  });

  it('tells the GitHub event from the body, and refuses what it cannot tell', () => {
    expect(githubEventOf(JSON.parse(body('github-push-tag', 'a/b', 'v1.0.0')))).toBe('push');
    expect(githubEventOf(JSON.parse(body('github-create-tag', 'a/b', 'v1.0.0')))).toBe('create');
    expect(githubEventOf({ zen: 'Keep it simple.', hook_id: 1 })).toBe('ping');
    expect(() => githubEventOf({ action: 'opened' })).toThrow(CliInputError);
  });
});

describe('tagflow local send-event with a put-events entry', () => {
  it("the README's CI entry, for a configured repository, starts the release", async () => {
    await h.publish('v6.0.0', { service: 'ci' });
    const entry = { Source: 'tagflow', DetailType: 'Tag Pushed', Detail: JSON.stringify({ repository: 'acme/ci', tag: 'v6.0.0', commit: commitOf('v6.0.0') }), EventBusName: 'tagflow' };
    const { events, notes } = eventsFromFile([entry], { now: h.rt.clock.now(), account: LOCAL_ACCOUNT, region: LOCAL_REGION });
    expect(notes).toEqual([]);
    const { started } = h.rt.sendEvent(events[0]!);
    expect(started.map((s) => s.rule)).toEqual(['tag-pushed']);
    expect((await started[0]!.execution.done).status).toBe('SUCCEEDED');
    expect((await h.rt.deps.ledger.releases('ci'))[0]!.release).toMatchObject({ version: 'v6.0.0', commit: commitOf('v6.0.0') });
  });
});
