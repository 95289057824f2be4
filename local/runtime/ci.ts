import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { buildFileKey, isSafeRelativePath, manifestKey, testReportKey } from '../../lambdas/lib/keys.js';
import { parseManifest, parseTestReport, sha256Hex } from '../../lambdas/lib/manifest.js';
import type { ObjectStore } from '../../lambdas/lib/ports.js';
import type { BuildManifest, SuiteResult, TestReport } from '../../lambdas/lib/types.js';

/** What CI does for tagflow: upload a build with its manifest, and report test results. */

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

export interface PublishBuild {
  service: string;
  version: string;
  commit: string;
  dir: string;
  entry?: string;
  build?: string;
  imageDigest?: string;
  /** The commits the build contains, newest first (`git rev-list <tag>`): lets a later dot release of an older line see whether this build holds its fix. */
  commits?: string[];
}

/**
 * Uploads a build and then its manifest. The manifest is checked by the release's own parser
 * before anything is uploaded: a build its release would refuse (a short commit, an entry not
 * among the files, a malformed digest) is never published under its version.
 */
export async function publishBuild(store: ObjectStore, bucket: string, b: PublishBuild, now = new Date()): Promise<BuildManifest> {
  const files = listFiles(b.dir).map((path) => {
    const rel = relative(b.dir, path).split(sep).join('/');
    if (!isSafeRelativePath(rel)) throw new Error(`refusing to publish ${path}: not a plain relative path`);
    return { rel, bytes: readFileSync(path) };
  });
  if (files.length === 0) throw new Error(`${b.dir} holds no files to publish`);
  const manifest: BuildManifest = {
    service: b.service,
    version: b.version,
    commit: b.commit,
    ...(b.build ? { build: b.build } : {}),
    ...(b.imageDigest ? { imageDigest: b.imageDigest } : {}),
    ...(b.entry ? { entry: b.entry } : {}),
    ...(b.commits ? { commits: b.commits } : {}),
    createdAt: now.toISOString(),
    files: files.map((f) => ({ path: f.rel, size: f.bytes.byteLength, sha256: sha256Hex(f.bytes) })),
  };
  parseManifest(manifest, `for ${b.service} ${b.version} (nothing uploaded)`);
  for (const f of files) await store.put({ bucket, key: buildFileKey(b.service, b.version, f.rel) }, f.bytes);
  // The manifest goes last: its presence says the build is complete.
  await store.put({ bucket, key: manifestKey(b.service, b.version) }, JSON.stringify(manifest, null, 2), 'application/json');
  return manifest;
}

/** `fixes`: a dot release's CI names the commits it fixes (as on the main line), which newer lines must contain. */
export async function reportTests(store: ObjectStore, bucket: string, service: string, commit: string, suites: SuiteResult[], now = new Date(), fixes?: string[]): Promise<TestReport> {
  const report: TestReport = { service, commit, finishedAt: now.toISOString(), suites, ...(fixes ? { fixes } : {}) };
  const problem = parseTestReport(report);
  if (typeof problem === 'string') throw new Error(`CI results for ${service} at ${commit} are malformed (nothing uploaded): ${problem}`);
  await store.put({ bucket, key: testReportKey(service, commit) }, JSON.stringify(report, null, 2), 'application/json');
  return report;
}
