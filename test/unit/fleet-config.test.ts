import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lambdas/lib/manifest.js';
import type { DeployRequest, ObjectLocation, ObjectStore } from '../../lambdas/lib/ports.js';
import { LocalFleet } from '../../local/runtime/fleet.js';

/** The local fleet runs each version with its own variables (config-only releases, issue 15): canary and baseline apart, and after a restart. */

const APP = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'config-release', 'app.mjs'));

function memoryStore(): ObjectStore {
  const objects = new Map<string, Uint8Array>();
  const k = (l: ObjectLocation) => `${l.bucket}/${l.key}`;
  return {
    get: async (l) => objects.get(k(l)),
    stream: async () => undefined,
    put: async (l, body) => void objects.set(k(l), typeof body === 'string' ? Buffer.from(body) : body),
    copy: async (from, to) => void objects.set(k(to), objects.get(k(from))!),
  };
}

let dataDir: string;
let store: ObjectStore;
const fleets: LocalFleet[] = [];
/** Every request goes to the canary arm when there is one. */
const newFleet = () => {
  const f = new LocalFleet(dataDir, store, () => 0);
  fleets.push(f);
  return f;
};
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tagflow-fleet-config-'));
  store = memoryStore();
});
afterEach(async () => {
  for (const f of fleets.splice(0)) await f.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function promoted(version: string, env?: Record<string, string>): Promise<DeployRequest> {
  const prefix = `prod/svc/${version}/`;
  await store.put({ bucket: 'envs', key: `${prefix}files/app.mjs` }, APP);
  return {
    service: 'svc',
    environment: 'prod',
    version,
    target: { type: 'local' },
    location: { bucket: 'envs', prefix },
    artifact: {
      manifestKey: `builds/svc/${version}/manifest.json`,
      commit: 'c0ffee',
      entry: 'app.mjs',
      files: [{ path: 'app.mjs', size: APP.length, sha256: sha256Hex(APP) }],
      totalBytes: APP.length,
      ...(env ? { config: { base: 'v1.0.0', env } } : {}),
    },
  };
}

async function vars(fleet: LocalFleet): Promise<unknown> {
  const res = await fetch(`${await fleet.endpoint('svc', 'prod')}/config`);
  return res.json();
}

describe('local fleet variables', () => {
  it('gives a canary its own variables and the baseline its own; a code build gets none', async () => {
    const fleet = newFleet();
    await fleet.deploy(await promoted('v1.0.0'));
    expect(await vars(fleet)).toEqual({ version: 'v1.0.0', vars: {} });

    const canary = await promoted('v1.0.0-config.1', { GREETING: 'hi' });
    await fleet.startCanary(canary, 10);
    expect(await vars(fleet)).toEqual({ version: 'v1.0.0-config.1', vars: { GREETING: 'hi' } });
    await fleet.setCanaryWeight({ service: 'svc', environment: 'prod', target: { type: 'local' }, canary: { version: 'v1.0.0-config.1', ref: 'v1.0.0-config.1' }, baseline: { version: 'v1.0.0', ref: 'v1.0.0' } }, 0);
    expect(await vars(fleet)).toEqual({ version: 'v1.0.0', vars: {} });
  });

  it('keeps a version\'s variables across a restart of the fleet (fleet.json)', async () => {
    await newFleet().deploy(await promoted('v1.0.0-config.2', { GREETING: 'hey', MAX_CONNECTIONS: '5' }));
    const again = newFleet();
    await again.restore();
    expect(await vars(again)).toEqual({ version: 'v1.0.0-config.2', vars: { GREETING: 'hey', MAX_CONNECTIONS: '5' } });
  });
});
