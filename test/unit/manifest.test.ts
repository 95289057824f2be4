import { describe, expect, it } from 'vitest';
import { parseManifest, parseTestReport } from '../../lambdas/lib/manifest.js';

const SHA = 'a'.repeat(64);
const COMMIT = 'c'.repeat(40);
const manifest = {
  service: 'api',
  version: 'v1.2.0',
  commit: COMMIT,
  createdAt: '2026-01-01T00:00:00.000Z',
  entry: 'app.mjs',
  files: [{ path: 'app.mjs', size: 12, sha256: SHA }],
};
const WHERE = 's3://art/builds/api/v1.2.0/manifest.json';

describe('build manifests', () => {
  it('keeps the fields the type names, and only those', () => {
    expect(parseManifest({ ...manifest, extra: true, files: [{ ...manifest.files[0], mode: 644 }] }, WHERE)).toEqual(manifest);
    expect(parseManifest({ ...manifest, build: '17', imageDigest: `sha256:${SHA}` }, WHERE)).toMatchObject({ build: '17', imageDigest: `sha256:${SHA}` });
  });

  it('names every bad field, what it should be and what it is, in the document order', () => {
    const bad = { ...manifest, version: '1.2.0', commit: 'abc', files: [{ path: '../app.mjs', size: -1 }] };
    expect(() => parseManifest(bad, WHERE)).toThrow(
      `build manifest ${WHERE} is malformed: ` +
        'version: expected a semver tag such as "v1.4.0", got "1.2.0"; ' +
        'commit: expected the full commit SHA, 40 lower-case hex characters, got "abc"; ' +
        'files[0].path: expected a relative path inside the build (no "..", no leading "/"), got "../app.mjs"; ' +
        'files[0].size: expected a whole number, 0 or more (bytes), got -1; ' +
        "files[0].sha256: is required (the file's SHA-256 as 64 lower-case hex characters)",
    );
  });

  it('refuses what is not a manifest at all, an empty build, duplicates and a stray entry', () => {
    expect(() => parseManifest(null, WHERE)).toThrow(/is malformed: \(input\): expected a JSON object, got null/);
    expect(() => parseManifest({ ...manifest, files: [] }, WHERE)).toThrow(/files: is empty: a build lists at least one file/);
    expect(() => parseManifest({ ...manifest, files: 'app.mjs' }, WHERE)).toThrow(/files: expected a list of files, got "app.mjs"/);
    expect(() => parseManifest({ ...manifest, files: [...manifest.files, ...manifest.files] }, WHERE)).toThrow(/lists app\.mjs twice/);
    expect(() => parseManifest({ ...manifest, entry: 'main.mjs' }, WHERE)).toThrow(/entry main\.mjs is not among its files/);
    expect(() => parseManifest({ ...manifest, files: [{ ...manifest.files[0], size: 1.5 }] }, WHERE)).toThrow(/files\[0\]\.size: expected a whole number/);
  });

  it('is an ArtifactIntegrityError, which the state machine routes on', () => {
    expect(() => parseManifest({}, WHERE)).toThrow(expect.objectContaining({ name: 'ArtifactIntegrityError' }));
  });
});

describe('CI test reports', () => {
  const report = { service: 'api', commit: COMMIT, finishedAt: '2026-01-01T00:00:00.000Z', suites: [{ name: 'unit', passed: 3, failed: 0 }] };

  it('returns the report, or what is wrong with it', () => {
    expect(parseTestReport({ ...report, suites: [{ ...report.suites[0], skipped: 1 }] })).toEqual({ ...report, suites: [{ ...report.suites[0], skipped: 1 }] });
    expect(parseTestReport({ ...report, suites: [{ name: '', passed: '3', failed: 0 }] })).toBe(
      'suites[0].name: expected the suite\'s name, not empty, got ""; suites[0].passed: expected a whole number, 0 or more, got "3"',
    );
    expect(parseTestReport([])).toBe('(input): expected a JSON object, got an array');
    expect(parseTestReport({ service: 'api' })).toMatch(/^commit: is required \(the commit SHA the tests ran on\); finishedAt: is required .*; suites: is required \(a list of test suites\)$/);
  });
});
