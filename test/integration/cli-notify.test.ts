import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTagflow } from '../support/cli.js';
import { commitOf, demoConfig, GOOD_DIR } from '../support/harness.js';

/** `tagflow local release --notify` prints, as they happen, the lines the ReleaseNotifications topic gets (issue 14). */


describe('tagflow local release --notify', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-cli-notify-'));
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(demoConfig()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => runTagflow(args, { config: join(dir, 'tagflow.config.json'), dataDir: join(dir, 'data') });

  it('prints each release event line between the states, and nothing without the flag', async () => {
    const commit = commitOf('v1.0.0');
    expect((await cli('local', 'publish-build', '--service', 'demo', '--version', 'v1.0.0', '--commit', commit, '--dir', GOOD_DIR, '--entry', 'app.mjs')).code).toBe(0);
    expect((await cli('local', 'report-tests', '--service', 'demo', '--commit', commit, '--suite', 'unit:10:0', '--suite', 'integration:5:0')).code).toBe(0);
    const r = await cli('local', 'release', '--service', 'demo', '--version', 'v1.0.0', '--notify', '--traffic', 'off');
    expect(r.code).toBe(0);
    const lines = r.lines.filter((l) => l.startsWith('demo v1.0.0'));
    expect(lines[0]).toMatch(/^demo v1\.0\.0: release started/);
    expect(lines.filter((l) => /promoted/i.test(l))).toHaveLength(3);
    expect(lines.at(-1)).toBe('demo v1.0.0 released: v1.0.0 is live in dev, staging, prod (no changes listed)');
    // The final line comes before the outcome line the CLI prints at the end.
    expect(r.lines.indexOf(lines.at(-1)!)).toBeLessThan(r.lines.findIndex((l) => l.startsWith('✔ SUCCEEDED')));

    const quiet = await cli('local', 'rollback', '--service', 'demo', '--environment', 'prod', '--reason', 'errors up');
    expect(quiet.lines.filter((l) => l.startsWith('demo '))).toEqual([]);
  });
});
