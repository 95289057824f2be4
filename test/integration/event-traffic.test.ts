import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTagflow } from '../support/cli.js';
import { commitOf, exampleConfigJson, prodOf, ROOT } from '../support/harness.js';

/**
 * A release started locally by an event (`tagflow local send-event`) gets the canary traffic
 * `tagflow local release` sends: without it the prod canary would see no request and end
 * inconclusive, rolled back for want of traffic rather than judged.
 */

// The example's config with one canary step before all of prod (10% → 50% → 100% there): the
// path under test is the same, in half the simulated minutes, which the CLI paces at 1 s each.
const CONFIG_TEXT = ((c) => {
  prodOf(c.services.demo!).canary!.steps = [50, 100];
  return JSON.stringify(c);
})(exampleConfigJson());

describe('tagflow local send-event: a Tag Pushed release of a service with a canary', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-event-traffic-'));
    writeFileSync(join(dir, 'tagflow.config.json'), CONFIG_TEXT);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => runTagflow(args, { config: join(dir, 'tagflow.config.json'), dataDir: join(dir, 'data') });
  const publish = async (version: string) => {
    const commit = commitOf(version);
    expect((await cli('local', 'publish-build', '--service', 'demo', '--version', version, '--commit', commit, '--dir', join(ROOT, 'examples', 'demo-service', version), '--entry', 'app.mjs')).code).toBe(0);
    expect((await cli('local', 'report-tests', '--service', 'demo', '--commit', commit, '--suite', 'unit:10:0', '--suite', 'integration:5:0')).code).toBe(0);
    return commit;
  };

  it('sends the canary its requests while it runs, so the judge decides on traffic', { timeout: 180_000 }, async () => {
    await publish('v1.0.0');
    expect((await cli('local', 'release', '--service', 'demo', '--version', 'v1.0.0')).code).toBe(0);
    const commit = await publish('v1.3.0');
    const file = join(dir, 'tag.json');
    writeFileSync(file, JSON.stringify({ Source: 'tagflow', DetailType: 'Tag Pushed', Detail: JSON.stringify({ repository: 'acme/demo', tag: 'v1.3.0', commit }) }));
    const r = await cli('local', 'send-event', '--file', file);
    expect(r.out).toContain('▶ rule tag-pushed started');
    const sent = [...r.out.matchAll(/traffic to prod's canary: (\d+) requests \((\d+)\/min of the 1200\/min asked\)/g)];
    expect(sent.length).toBe(1);
    expect(Number(sent[0]![1])).toBeGreaterThan(0);
    const history = await cli('history', '--service', 'demo', '--version', 'v1.3.0');
    expect(history.out).not.toMatch(/no canary request/i);
    expect(history.out).toMatch(/canary\s+prod/);
  });
});
