import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTagflow } from '../support/cli.js';
import { commitOf, demoConfig, GOOD_DIR } from '../support/harness.js';

/** `tagflow local publish-config` and `tagflow local release --config-only` (issue 15). */


describe('a config-only release from the CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-config-cli-'));
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(demoConfig()));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => runTagflow(args, { config: join(dir, 'tagflow.config.json'), dataDir: join(dir, 'data') });

  it('publishes the live code with new variables and ships it, recorded as a config release', async () => {
    const commit = commitOf('v1.0.0');
    expect((await cli('local', 'publish-build', '--service', 'demo', '--version', 'v1.0.0', '--commit', commit, '--dir', GOOD_DIR, '--entry', 'app.mjs')).code).toBe(0);
    expect((await cli('local', 'report-tests', '--service', 'demo', '--commit', commit, '--suite', 'unit:10:0', '--suite', 'integration:5:0')).code).toBe(0);
    expect((await cli('local', 'release', '--service', 'demo', '--version', 'v1.0.0')).code).toBe(0);

    await expect(cli('local', 'publish-config', '--service', 'demo', '--version', 'v1.0.1', '--env', 'GREETING=hi')).rejects.toThrow(/--version "v1\.0\.1" is not a config version/);
    const published = await cli('local', 'publish-config', '--service', 'demo', '--version', 'v1.0.0-config.1', '--env', 'GREETING=hi');
    expect(published.code).toBe(0);
    expect(published.out).toMatch(/^published demo v1\.0\.0-config\.1: the code of v1\.0\.0 \(\d+ files, commit 76312e302e30\) with GREETING/);

    await expect(cli('local', 'release', '--service', 'demo', '--version', 'v1.0.1', '--config-only')).rejects.toThrow(/--config-only: --version "v1\.0\.1" is not a config version/);
    const shipped = await cli('local', 'release', '--service', 'demo', '--version', 'v1.0.0-config.1', '--config-only');
    expect(shipped.code).toBe(0);
    const history = await cli('history', '--service', 'demo', '--version', 'v1.0.0-config.1');
    expect(history.out).toContain('v1.0.0-config.1  config release of v1.0.0  succeeded');
    expect((await cli('dora')).out).toContain('config releases       1 (same code, new configuration; not counted above');
  });
});
