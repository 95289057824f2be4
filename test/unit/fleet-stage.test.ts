import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../lambdas/lib/manifest.js';
import type { DeployRequest, ObjectLocation, ObjectStore } from '../../lambdas/lib/ports.js';
import { LocalFleet } from '../../local/runtime/fleet.js';

/** The local fleet's staged versions (issue 15): their own server, no share of the environment's traffic. */

const ROOT = join(import.meta.dirname, '..', '..');
const build = (dir: string) => readFileSync(join(ROOT, dir, 'app.mjs'));

/** Promoted copies in memory: the fleet reads nothing else from its store. */
function memoryStore(): ObjectStore & { objects: Map<string, Uint8Array> } {
  const objects = new Map<string, Uint8Array>();
  const k = (l: ObjectLocation) => `${l.bucket}/${l.key}`;
  return {
    objects,
    get: async (l) => objects.get(k(l)),
    stream: async () => undefined,
    put: async (l, body) => void objects.set(k(l), typeof body === 'string' ? Buffer.from(body) : body),
    copy: async (from, to) => void objects.set(k(to), objects.get(k(from))!),
  };
}

let dataDir: string;
let store: ReturnType<typeof memoryStore>;
let fleet: LocalFleet;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'tagflow-fleet-stage-'));
  store = memoryStore();
  // Every request goes to the canary arm when there is one (random() < weight/100 for any weight > 0).
  fleet = new LocalFleet(dataDir, store, () => 0);
});
afterEach(async () => {
  await fleet.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function promoted(version: string, bytes: Buffer): Promise<DeployRequest> {
  const prefix = `dev/svc/${version}/`;
  await store.put({ bucket: 'envs', key: `${prefix}files/app.mjs` }, bytes);
  return {
    service: 'svc',
    environment: 'dev',
    version,
    target: { type: 'local' },
    location: { bucket: 'envs', prefix },
    artifact: { manifestKey: `builds/svc/${version}/manifest.json`, commit: 'c0ffee', entry: 'app.mjs', files: [{ path: 'app.mjs', size: bytes.length, sha256: sha256Hex(bytes) }], totalBytes: bytes.length },
  };
}

const versionAt = async (url: string) => (await fetch(`${url}/health`)).headers.get('x-tagflow-version');
const answers = async (url: string) => fetch(`${url}/health`).then(() => true, () => false);

describe('LocalFleet.stage', () => {
  it('serves the staged version on its own address while the environment keeps serving the live one', async () => {
    await fleet.deploy(await promoted('v1.0.0', build('examples/demo-service/v1.0.0')));
    const staged = await fleet.stage(await promoted('v1.1.0', build('examples/demo-service/v1.3.0')));
    const endpoint = await fleet.endpoint('svc', 'dev');

    expect(staged.ref).toBe('v1.1.0');
    expect(await versionAt(staged.endpoint!)).toBe('v1.1.0');
    expect(await versionAt(endpoint)).toBe('v1.0.0');
    // Requests to the staged address are nobody's traffic: the environment's samples count only the live one.
    expect(fleet.samples('svc', 'dev', 0, Number.POSITIVE_INFINITY).map((s) => s.version)).toEqual(['v1.0.0']);
    expect(fleet.version('svc', 'dev')).toBe('v1.0.0');
  });

  it('a canary start takes the staged version as it is (the promoted copy is not read again) and stops its own server', async () => {
    await fleet.deploy(await promoted('v1.0.0', build('examples/demo-service/v1.0.0')));
    const req = await promoted('v1.1.0', build('examples/demo-service/v1.3.0'));
    const staged = await fleet.stage(req);
    store.objects.clear();

    await fleet.startCanary({ ...req, staged: staged.ref }, 10);
    expect(fleet.canary('svc', 'dev')).toEqual({ version: 'v1.1.0', weight: 10 });
    expect(await versionAt(await fleet.endpoint('svc', 'dev'))).toBe('v1.1.0');
    expect(await answers(staged.endpoint!)).toBe(false);
  });

  it('without a staged handle the build is loaded from the promoted copy as before', async () => {
    const req = await promoted('v1.0.0', build('examples/demo-service/v1.0.0'));
    const staged = await fleet.stage(req);
    store.objects.clear();
    await expect(fleet.deploy(req)).rejects.toMatchObject({ name: 'ArtifactIntegrityError' });
    await fleet.deploy({ ...req, staged: staged.ref });
    expect(fleet.version('svc', 'dev')).toBe('v1.0.0');
  });

  it('discard stops the staged version; a build that throws on load fails to stage', async () => {
    const staged = await fleet.stage(await promoted('v1.0.0', build('examples/demo-service/v1.0.0')));
    await fleet.discard({ service: 'svc', environment: 'dev', version: 'v1.0.0', target: { type: 'local' }, ref: staged.ref });
    expect(await answers(staged.endpoint!)).toBe(false);

    await expect(fleet.stage(await promoted('v2.0.0', build('test/fixtures/pre-traffic/crash')))).rejects.toThrow('DATABASE_URL is not set');
    expect(fleet.version('svc', 'dev')).toBeUndefined();
  });
});
