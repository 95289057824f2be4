import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../local/cli/main.js';
import { commitOf, exampleConfigJson, GOOD_DIR } from '../support/harness.js';

/**
 * Issue 14: `tagflow local release … --approve NAME` answers an environment's routine sign-off
 * (kind promotion) as it answers an emergency: the CLI over a local data folder, end to end.
 */

const strip = (s: string) => s.replace(/\u001b\[\d+m/g, '');

describe('tagflow local release --approve with an environment that needs a sign-off', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-promotion-cli-'));
    const raw = exampleConfigJson();
    const demo = raw.services.demo!;
    delete raw.policy;
    for (const env of demo.environments) delete env.canary;
    demo.environments.find((e) => e.name === 'prod')!.approval = { from: ['dave'], timeoutHours: 3 / 3600 };
    raw.services = { demo };
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(raw));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function cli(...args: string[]) {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(strip(a.join(' '))));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void out.push(strip(a.join(' '))));
    try {
      const code = await main([...args, '--config', join(dir, 'tagflow.config.json'), '--data-dir', join(dir, 'data')]);
      return { code, out: out.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  async function published(version: string) {
    const commit = commitOf(version);
    expect((await cli('publish-build', '--service', 'demo', '--version', version, '--commit', commit, '--dir', GOOD_DIR, '--entry', 'app.mjs')).code).toBe(0);
    expect((await cli('report-tests', '--service', 'demo', '--commit', commit, '--suite', 'unit:12:0', '--suite', 'integration:3:0')).code).toBe(0);
  }

  it('approves as the named approver of approval.from and ships; someone else cannot, and the release then times out safely', async () => {
    await published('v1.0.0');
    const shipped = await cli('release', '--service', 'demo', '--version', 'v1.0.0', '--approve', 'dave');
    expect(shipped.code, shipped.out).toBe(0);
    expect(shipped.out).toContain('✓ approved by dave');

    await published('v1.0.1');
    const refused = await cli('release', '--service', 'demo', '--version', 'v1.0.1', '--approve', 'mallory');
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain('✗ mallory cannot approve: "mallory" may not decide: services.demo.environments[2].approval.from lists dave');
    expect(refused.out).toContain('ApprovalTimedOut');
    expect(refused.out).toContain('did not get 1 approval from dave within 3 s (services.demo.environments[2].approval.timeoutHours); nothing was deployed there');

    const history = await cli('history', '--service', 'demo', '--version', 'v1.0.0');
    expect(history.out).toMatch(/approval +prod +passed +dave approved the promotion of demo v1\.0\.0 into prod at /);
  });
});
