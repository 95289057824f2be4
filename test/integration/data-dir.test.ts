import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local/runtime/runtime.js';
import { demoConfig, GOOD_DIR, ROOT, startHarness } from '../support/harness.js';

/**
 * The local data folder as a safe place to work: a second tagflow process reads the ledger
 * beside a running one (or is refused at once, cleanly), a damaged or moved fleet.json and a
 * damaged ledger are named instead of crashing, and fleet.json is never half written.
 */

const dirs: string[] = [];
const children: ChildProcess[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tagflow-datadir-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Another tagflow process owning `dataDir`: it starts the runtime, says "ready", and holds it until killed. */
function otherProcess(dataDir: string): Promise<ChildProcess> {
  const script = `
    import { LocalRuntime } from ${JSON.stringify(join(ROOT, 'local/runtime/runtime.ts'))};
    import { demoConfig } from ${JSON.stringify(join(ROOT, 'test/support/harness.ts'))};
    await LocalRuntime.start({ dataDir: ${JSON.stringify(dataDir)}, config: demoConfig() });
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const file = join(dataDir, '..', `owner-${Date.now()}.mts`);
  writeFileSync(file, script);
  const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.on('exit', (code) => reject(new Error(`the other process exited ${code}: ${err}`)));
  });
}

describe('two tagflow processes on one data folder', () => {
  it('lets a second one read the ledger through the owner, and refuses it anything else at once', async () => {
    const dataDir = tempDir();
    // Something to read: a release recorded by an earlier process.
    const h = await startHarness({ dataDir });
    await h.publish('v1.0.0');
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    await h.rt.close();

    const owner = await otherProcess(dataDir);
    const reader = await LocalRuntime.start({ dataDir, config: demoConfig(), share: 'attach' });
    try {
      expect((await reader.deps.ledger.getEnvironment('demo', 'prod'))?.version).toBe('v1.0.0');
      expect(() => reader.startExecution('release', { service: 'demo', version: 'v1.0.1' })).toThrow(/in use by tagflow process \d+: this process may only read it/);
    } finally {
      await reader.close();
    }
    await expect(LocalRuntime.start({ dataDir, config: demoConfig() })).rejects.toMatchObject({ name: 'DataDirBusy', message: expect.stringContaining(`in use by tagflow process ${owner.pid}`) });
    // The reader left the owner's record alone.
    expect(JSON.parse(readFileSync(join(dataDir, 'owner.json'), 'utf8')).pid).toBe(owner.pid);
  }, 60_000);

  it('takes over a folder whose owner died without cleaning up', async () => {
    const dataDir = tempDir();
    const owner = await otherProcess(dataDir);
    owner.kill('SIGKILL');
    await new Promise((r) => owner.once('exit', r));
    expect(existsSync(join(dataDir, 'owner.json'))).toBe(true);
    const rt = await LocalRuntime.start({ dataDir, config: demoConfig() });
    expect(JSON.parse(readFileSync(join(dataDir, 'owner.json'), 'utf8')).pid).toBe(process.pid);
    await rt.close();
    expect(existsSync(join(dataDir, 'owner.json'))).toBe(false);
  }, 60_000);
});

describe('the fleet state', () => {
  it('is stored relative to the data folder, so a moved folder still serves what it served', async () => {
    const before = tempDir();
    const h = await startHarness({ dataDir: before, config: demoConfig() });
    await h.publish('v1.0.0', { dir: GOOD_DIR });
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    await h.rt.close();
    const stored = JSON.parse(readFileSync(join(before, 'fleet.json'), 'utf8'));
    expect(stored['demo/prod'].live.dir).toBe(join('fleet', 'demo', 'prod', 'v1.0.0'));

    const after = `${before}-moved`;
    renameSync(before, after);
    dirs.push(after);
    const rt = await LocalRuntime.start({ dataDir: after, config: demoConfig() });
    try {
      expect(rt.fleet.version('demo', 'prod')).toBe('v1.0.0');
      const res = await fetch(await rt.fleet.endpoint('demo', 'prod'));
      expect(res.headers.get('x-tagflow-version')).toBe('v1.0.0');
    } finally {
      await rt.close();
    }
  }, 60_000);

  it('when damaged, is named; the ledger still reads, and the next release moves it aside and serves again', async () => {
    const dataDir = tempDir();
    const h = await startHarness({ dataDir });
    await h.publish('v1.0.0');
    await h.publish('v1.0.1');
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    await h.rt.close();
    writeFileSync(join(dataDir, 'fleet.json'), '{"demo/prod": {"live": {"version": "v1.0.0", "dir": ');

    const rt = await LocalRuntime.start({ dataDir, config: demoConfig() });
    try {
      expect(rt.warnings).toEqual([expect.stringContaining(`${join(dataDir, 'fleet.json')} is damaged`)]);
      expect((await rt.deps.ledger.getEnvironment('demo', 'prod'))?.version).toBe('v1.0.0');
      expect(rt.fleet.version('demo', 'prod')).toBeUndefined();
      expect((await rt.startExecution('release', { service: 'demo', version: 'v1.0.1' }).done).status).toBe('SUCCEEDED');
      expect(rt.fleet.version('demo', 'prod')).toBe('v1.0.1');
      expect(readFileSync(join(dataDir, 'fleet.json.damaged'), 'utf8')).toContain('"dir": ');
      expect(JSON.parse(readFileSync(join(dataDir, 'fleet.json'), 'utf8'))['demo/prod'].live.version).toBe('v1.0.1');
    } finally {
      await rt.close();
    }
  }, 90_000);
});

describe('a damaged ledger', () => {
  it('is named with the data folder, and nothing starts', async () => {
    const dataDir = tempDir();
    const rt = await LocalRuntime.start({ dataDir, config: demoConfig() });
    await rt.close();
    // LevelDB's CURRENT names the manifest; garbage there is what a torn write leaves.
    writeFileSync(join(dataDir, 'ledger', 'CURRENT'), 'garbage\n');
    const err = await LocalRuntime.start({ dataDir, config: demoConfig() }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toMatchObject({ name: 'LocalDataError', message: expect.stringContaining(join(dataDir, 'ledger')) });
    expect(err!.message).not.toMatch(/^LEVEL_/);
    expect(existsSync(join(dataDir, 'owner.json'))).toBe(false);
  }, 60_000);
});
