import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../lambdas/lib/ports.js';
import { localImageScans, recordImageScanFile } from '../../local/runtime/image-scans.js';

/** The local stand-in for ECR's scans (issue 17): what a test or `tagflow local scan-image` records is what the gate reads. */

const dir = mkdtempSync(join(tmpdir(), 'tagflow-scans-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function memoryStore(): ObjectStore {
  const objects = new Map<string, Uint8Array>();
  return {
    get: async ({ bucket, key }) => objects.get(`${bucket}/${key}`),
    stream: async () => undefined,
    put: async ({ bucket, key }, body) => void objects.set(`${bucket}/${key}`, typeof body === 'string' ? new TextEncoder().encode(body) : body),
    copy: async () => {},
  };
}
const config = { services: { shop: { triggers: { ecr: 'shop' } }, other: { triggers: {} } } };
const DIGEST = `sha256:${'d'.repeat(64)}`;
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
};

describe('local image scans', () => {
  it('a plain findings list becomes a complete basic scan that the gate reads back', async () => {
    const store = memoryStore();
    const lines = await recordImageScanFile(store, 'artifacts', config, { service: 'shop', imageDigest: DIGEST, file: file('list.json', [{ id: 'CVE-2024-5535', severity: 'CRITICAL', package: 'openssl', version: '3.0.2' }]) });
    expect(lines).toEqual([`recorded for shop@${DIGEST}: 1 findings (basic scan); the vulnerability gate of shop reads it`]);
    expect(await localImageScans(store, 'artifacts').scan({ repository: 'shop', imageDigest: DIGEST })).toEqual({
      status: 'complete',
      scanner: 'basic',
      findings: [{ id: 'CVE-2024-5535', severity: 'CRITICAL', package: 'openssl', version: '3.0.2' }],
    });
  });

  it('an ECR answer is kept as it is, a scan in progress included', async () => {
    const store = memoryStore();
    await recordImageScanFile(store, 'artifacts', config, { service: 'shop', imageDigest: DIGEST, file: file('ecr.json', { imageScanStatus: { status: 'IN_PROGRESS' } }) });
    expect(await localImageScans(store, 'artifacts').scan({ repository: 'shop', imageDigest: DIGEST })).toEqual({ status: 'pending', detail: 'IN_PROGRESS' });
  });

  it('nothing recorded is no scan, as ECR\'s ScanNotFoundException', async () => {
    expect(await localImageScans(memoryStore(), 'artifacts').scan({ repository: 'shop', imageDigest: DIGEST })).toMatchObject({ status: 'unavailable', detail: expect.stringContaining('no scan of it is recorded locally') });
  });

  it('refuses bad input naming what to fix', async () => {
    const store = memoryStore();
    const record = (opts: Partial<Parameters<typeof recordImageScanFile>[3]>) => recordImageScanFile(store, 'artifacts', config, { service: 'shop', imageDigest: DIGEST, file: file('ok.json', []), ...opts });
    await expect(record({ file: file('bad.json', [{ id: 'CVE-1', severity: 'SEVERE' }]) })).rejects.toThrow('[0].severity must be one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED');
    await expect(record({ file: file('noid.json', [{ severity: 'LOW' }]) })).rejects.toThrow('[0].id must be a vulnerability id');
    await expect(record({ file: file('other.json', { findings: [] }) })).rejects.toThrow('expected a list of findings, or the output of aws ecr describe-image-scan-findings');
    await expect(record({ file: file('broken.json', '{') })).rejects.toThrow('not a readable JSON file');
    await expect(record({ service: 'nope' })).rejects.toThrow('--service "nope": no such service in the config (shop, other)');
    await expect(record({ service: 'other' })).rejects.toThrow('services.other.triggers.ecr is not set: name the image\'s repository with --repository');
    await expect(record({ imageDigest: 'sha256:short' })).rejects.toThrow('expected sha256:<64 hex>');
  });
});
