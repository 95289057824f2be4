import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_DIR, commitOf, exampleConfigJson, GOOD_DIR } from '../support/harness.js';
import { runTagflow } from '../support/cli.js';

/**
 * Issue 16, the README's worked example through the CLI over a local data folder: staging runs
 * a migration function from `<data-dir>/functions/`, builds declare `--schema`/`--schema-compat`,
 * the rollback machine refuses a build that cannot run on the schema in place, and a failure
 * after the migration holds until `--reject NAME` chooses the rollback.
 */

describe('tagflow local with migrations', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tagflow-migrations-cli-'));
    const raw = exampleConfigJson();
    const demo = raw.services.demo!;
    demo.environments = demo.environments.filter((e) => e.name !== 'prod');
    demo.environments[1]!.migrations = [
      { type: 'invoke', function: '{service}-migrate', phase: 'expand', name: 'add orders.currency' },
      { type: 'invoke', function: '{service}-migrate', phase: 'contract', name: 'drop orders.legacy_total' },
    ];
    raw.services = { demo };
    raw.policy = { approvers: ['alice', 'bob'] };
    writeFileSync(join(dir, 'tagflow.config.json'), JSON.stringify(raw));
    // The migration function appends what it was asked to do, so the test sees each call.
    mkdirSync(join(dir, 'data', 'functions'), { recursive: true });
    writeFileSync(
      join(dir, 'data', 'functions', 'demo-migrate.mjs'),
      `import { appendFileSync } from 'node:fs';\nexport async function handler(e) { appendFileSync(${JSON.stringify(join(dir, 'calls.log'))}, \`\${e.version} \${e.environment} \${e.phase} \${e.migration} \${e.schema}\\n\`); return { ok: true }; }\n`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]) => runTagflow(args, { config: join(dir, 'tagflow.config.json'), dataDir: join(dir, 'data') });


  async function published(version: string, src: string, schema: string, compat: string) {
    const commit = commitOf(version);
    const p = await cli('publish-build', '--service', 'demo', '--version', version, '--commit', commit, '--dir', src, '--entry', 'app.mjs', '--schema', schema, '--schema-compat', compat);
    expect(p.code, p.out).toBe(0);
    expect((await cli('report-tests', '--service', 'demo', '--commit', commit, '--suite', 'unit:12:0', '--suite', 'integration:3:0')).code).toBe(0);
  }
  const calls = () => readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n');

  it('migrates staging around the deploy, refuses a rollback to a build of the old schema, and holds a failure for --reject', async () => {
    await published('v1.0.0', GOOD_DIR, '7', '7');
    await published('v1.1.0', GOOD_DIR, '8', '8+');
    for (const v of ['v1.0.0', 'v1.1.0']) expect((await cli('release', '--service', 'demo', '--version', v)).code).toBe(0);
    expect(calls()).toEqual([
      'v1.0.0 staging expand add orders.currency 7',
      'v1.0.0 staging contract drop orders.legacy_total 7',
      'v1.1.0 staging expand add orders.currency 8',
      'v1.1.0 staging contract drop orders.legacy_total 8',
    ]);
    expect((await cli('status', '--service', 'demo')).out).toMatch(/past a migration: contract drop orders\.legacy_total of v1\.1\.0 at .*, schema 8/);

    const refused = await cli('rollback', '--service', 'demo', '--environment', 'staging', '--to-version', 'v1.0.0', '--reason', 'orders slow');
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain('RollbackRefused');
    expect(refused.out).toContain('the schema is now 8, and v1.0.0 expects schema 7 and declares schemaCompat ["7"], so it may not run against schema 8; nothing was changed');

    await published('v1.2.0', BAD_DIR, '8', '8+');
    await expect(cli('release', '--service', 'demo', '--version', 'v1.2.0', '--approve', 'alice', '--reject', 'bob')).rejects.toThrow('--approve and --reject: give one');
    const held = await cli('release', '--service', 'demo', '--version', 'v1.2.0', '--reject', 'bob');
    expect(held.code).not.toBe(0);
    expect(held.out).toContain('✗ rollback chosen by bob');
    expect(held.out).toContain('MigrationRollbackChosen: bob chose to roll back the failed release of demo v1.2.0 in staging');
    expect(held.out).toContain('✓ Verify migration rollback');
    const status = (await cli('status', '--service', 'demo')).out;
    expect(status).toMatch(/staging +v1\.1\.0 +healthy +v1\.0\.0 +rolled-back/);
    expect(status).toMatch(/past a migration: expand add orders\.currency of v1\.2\.0 at .*, schema 8/);
  });
});
