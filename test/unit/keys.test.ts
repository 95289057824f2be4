import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFileKey, environmentFileKey, isSafeRelativePath, manifestKey, testReportKey } from '../../lambdas/lib/keys.js';

describe('S3 key layout', () => {
  it('lays out builds, CI results and promoted copies', () => {
    expect(manifestKey('api', 'v1.2.3')).toBe('builds/api/v1.2.3/manifest.json');
    expect(buildFileKey('api', 'v1.2.3-rc.1+build.5', 'dist/app.mjs')).toBe('builds/api/v1.2.3-rc.1+build.5/files/dist/app.mjs');
    expect(environmentFileKey('prod', 'api', 'v1.2.3', 'app.mjs')).toBe('prod/api/v1.2.3/files/app.mjs');
    expect(testReportKey('api', 'a'.repeat(40))).toBe(`ci/api/${'a'.repeat(40)}.json`);
  });

  it('refuses segments that could leave their prefix', () => {
    expect(() => manifestKey('../etc', 'v1.0.0')).toThrow(/refusing/);
    expect(() => manifestKey('api', 'v1.0.0/../../x')).toThrow(/refusing/);
    expect(() => buildFileKey('api', 'v1.0.0', '../../prod/api/v1.0.0/files/app.mjs')).toThrow(/refusing/);
    expect(() => buildFileKey('api', 'v1.0.0', '/etc/passwd')).toThrow(/refusing/);
    expect(() => buildFileKey('api', 'v1.0.0', 'a\u0000b')).toThrow(/refusing/);
  });

  it('never builds a key outside builds/<service>/<version>/ for any string', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (service, version, path) => {
        let key: string;
        try {
          key = buildFileKey(service, version, path);
        } catch {
          return true;
        }
        const prefix = `builds/${service}/${version}/files/`;
        return key.startsWith(prefix) && !key.split('/').some((s) => s === '..' || s === '.') && isSafeRelativePath(key.slice(prefix.length));
      }),
      { numRuns: 1000 },
    );
  });
});
