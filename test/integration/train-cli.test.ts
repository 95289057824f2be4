import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTagflow } from '../support/cli.js';
import { commitOf, demoConfig, GOOD_DIR } from '../support/harness.js';

/** `tagflow local release --train NAME --version V` and `tagflow status --train NAME` (issue 15). */


describe('tagflow release --train', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-train-cli-'));
    const base = demoConfig({ services: ['web', 'api'] });
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify({ ...base, trains: { shop: { services: ['web', 'api'], order: { prod: [['api'], ['web']] } } } }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => runTagflow(args, { config: join(dir, 'tagflow.config.json'), dataDir: join(dir, 'data') });

  it('runs the train machine and ends with every member per environment; status --train shows the same', async () => {
    for (const service of ['web', 'api']) {
      const commit = commitOf(`${service}-v2.0.0`);
      expect((await cli('local', 'publish-build', '--service', service, '--version', 'v2.0.0', '--commit', commit, '--dir', GOOD_DIR, '--entry', 'app.mjs')).code).toBe(0);
      expect((await cli('local', 'report-tests', '--service', service, '--commit', commit, '--suite', 'unit:10:0', '--suite', 'integration:5:0')).code).toBe(0);
    }
    const r = await cli('local', 'release', '--train', 'shop', '--version', 'v2.0.0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('▶ release train shop v2.0.0');
    const status = await cli('status', '--train', 'shop');
    expect(status.code).toBe(0);
    // The release's own output ends with the train's status table.
    for (const line of status.out.split('\n').slice(0, -1)) expect(r.out).toContain(line);
    expect(status.out).toMatch(/api\s.*v2\.0\.0/);
    expect(status.out).toMatch(/web\s.*v2\.0\.0/);
    await expect(cli('local', 'release', '--train', 'shp', '--version', 'v2.0.0')).rejects.toThrow(/no such train.*shop/);
  });
});
