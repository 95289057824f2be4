import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { envIssues } from '../../lambdas/lib/config-release.js';
import { buildFileKey, isSafeRelativePath, manifestKey, manifestSignatureKey, testReportKey } from '../../lambdas/lib/keys.js';
import { parseManifest, parseTestReport, sha256Hex } from '../../lambdas/lib/manifest.js';
import type { ObjectStore } from '../../lambdas/lib/ports.js';
import { MANIFEST_PAYLOAD_TYPE, type MessageSigner, signEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import type { BuildManifest, ChangeEntry, SuiteResult, TestReport } from '../../lambdas/lib/types.js';
import { configVersionOf } from '../../lambdas/lib/version.js';

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
  /** The commits since the previous release tag, newest first (`git log PREV..TAG`): the release's notes (release-notes.ts). */
  changes?: ChangeEntry[];
  /** Signs the manifest (the stack's KMS key, or the data dir's key locally): a DSSE envelope beside it. */
  signer?: MessageSigner;
  /** The schema version the code expects, and those it runs against ("7", "7+"): what rollbacks past a migration check (schema-compat.ts). */
  schema?: number;
  schemaCompat?: string[];
}

/**
 * The manifest's bytes, signed before anything is uploaded (a signer that fails leaves no build).
 * The envelope is put before the manifest: the manifest's presence says the build is complete,
 * so a release that finds it also finds its signature.
 */
async function manifestUpload(manifest: BuildManifest, signer: MessageSigner | undefined): Promise<{ bytes: Buffer; envelope?: string }> {
  const bytes = Buffer.from(JSON.stringify(manifest, null, 2));
  if (!signer) return { bytes };
  return { bytes, envelope: JSON.stringify(await signEnvelope(signer, MANIFEST_PAYLOAD_TYPE, bytes), null, 2) };
}

async function putManifest(store: ObjectStore, bucket: string, manifest: BuildManifest, upload: { bytes: Buffer; envelope?: string }): Promise<void> {
  if (upload.envelope) await store.put({ bucket, key: manifestSignatureKey(manifest.service, manifest.version) }, upload.envelope, 'application/json');
  await store.put({ bucket, key: manifestKey(manifest.service, manifest.version) }, upload.bytes, 'application/json');
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
    ...(b.changes ? { changes: b.changes } : {}),
    ...(b.schema === undefined ? {} : { schema: b.schema }),
    ...(b.schemaCompat ? { schemaCompat: b.schemaCompat } : {}),
    createdAt: now.toISOString(),
    files: files.map((f) => ({ path: f.rel, size: f.bytes.byteLength, sha256: sha256Hex(f.bytes) })),
  };
  parseManifest(manifest, `for ${b.service} ${b.version} (nothing uploaded)`);
  const upload = await manifestUpload(manifest, b.signer);
  for (const f of files) await store.put({ bucket, key: buildFileKey(b.service, b.version, f.rel) }, f.bytes);
  // The manifest goes last: its presence says the build is complete.
  await putManifest(store, bucket, manifest, upload);
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

export interface PublishConfig {
  service: string;
  /** The config version, `vX.Y.Z-config.N`: its base build's version plus a config revision. */
  version: string;
  /** The variables it sets (the whole configuration: a later revision lists them all again). */
  env: Record<string, string>;
  /** Extra files the configuration brings (e.g. a config file), beside the base build's code. */
  files?: Record<string, string | Uint8Array>;
  /** Signs the manifest, as for publishBuild. */
  signer?: MessageSigner;
}

/**
 * What CI does for a config-only release: its own build in the store, made of the base build's
 * files (copied within the store, SHA-256 unchanged: the same code) and any config files, then
 * a manifest `kind: "config"` naming the base and the variables. The base is read from the
 * store and the manifest checked by the release's own parser before anything is uploaded.
 */
export async function publishConfig(store: ObjectStore, bucket: string, c: PublishConfig, now = new Date()): Promise<BuildManifest> {
  const shape = configVersionOf(c.version);
  if (!shape) throw new Error(`--version ${c.version} is not a config version: expected the base build's version plus "-config.N", e.g. v1.4.0-config.1 (nothing uploaded)`);
  const baseKey = manifestKey(c.service, shape.base);
  const raw = await store.get({ bucket, key: baseKey });
  if (!raw) throw new Error(`no build of ${c.service} ${shape.base} at s3://${bucket}/${baseKey}: a config release ships a published build with new configuration (nothing uploaded)`);
  const base = parseManifest(JSON.parse(Buffer.from(raw).toString('utf8')), `s3://${bucket}/${baseKey}`);
  if (base.kind === 'config') throw new Error(`${shape.base} is itself a config release; base ${c.version} on a code build (nothing uploaded)`);
  const extra = Object.entries(c.files ?? {}).map(([rel, content]) => ({ rel, bytes: typeof content === 'string' ? Buffer.from(content) : content }));
  for (const f of extra) {
    if (!isSafeRelativePath(f.rel)) throw new Error(`refusing config file ${f.rel}: not a plain relative path (nothing uploaded)`);
    if (base.files.some((b) => b.path === f.rel)) throw new Error(`config file ${f.rel} would replace a file of the build ${shape.base}: a config release keeps the code as it is (nothing uploaded)`);
  }
  const manifest: BuildManifest = {
    service: c.service,
    version: c.version,
    commit: base.commit,
    ...(base.imageDigest ? { imageDigest: base.imageDigest } : {}),
    ...(base.entry ? { entry: base.entry } : {}),
    ...(base.commits ? { commits: base.commits } : {}),
    createdAt: now.toISOString(),
    files: [...base.files, ...extra.map((f) => ({ path: f.rel, size: f.bytes.byteLength, sha256: sha256Hex(f.bytes) }))],
    kind: 'config',
    base: shape.base,
    env: { ...c.env },
  };
  parseManifest(manifest, `for ${c.service} ${c.version} (nothing uploaded)`);
  const upload = await manifestUpload(manifest, c.signer);
  for (const f of base.files) await store.copy({ bucket, key: buildFileKey(c.service, shape.base, f.path) }, { bucket, key: buildFileKey(c.service, c.version, f.path) });
  for (const f of extra) await store.put({ bucket, key: buildFileKey(c.service, c.version, f.rel) }, f.bytes);
  await putManifest(store, bucket, manifest, upload);
  return manifest;
}

/** `KEY=VALUE` arguments (`--env`) as variables; a malformed one names itself. */
export function parseEnvAssignments(assignments: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new Error(`--env ${JSON.stringify(a)}: expected NAME=VALUE, e.g. --env GREETING=hi`);
    const name = a.slice(0, eq);
    if (name in env) throw new Error(`--env ${name} is given twice`);
    env[name] = a.slice(eq + 1);
  }
  const issues = envIssues(env);
  if (issues.length) throw new Error(issues.map((i) => `--env ${i.field === 'env' ? '(all of them)' : i.field.slice('env.'.length)}: ${i.problem}`).join('; '));
  return env;
}
