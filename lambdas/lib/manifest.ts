import { createHash } from 'node:crypto';
import { ArtifactIntegrityError, listIssues, type FieldIssue } from './errors.js';
import { envIssues, kindIssues } from './config-release.js';
import { fieldsOf, type Fields, type Rule } from './json-fields.js';
import { isSafeRelativePath } from './keys.js';
import { SCHEMA_COMPAT_ENTRY, SCHEMA_COMPAT_EXPECT } from './schema-compat.js';
import type { BuildManifest, ChangeEntry, ManifestFile, ResolvedArtifact, SuiteResult, TestReport } from './types.js';
import { parseVersion, VERSION_EXAMPLE } from './version.js';

/**
 * The documents CI uploads, validated by hand against their types in types.ts (the one
 * definition of their shape): each parser builds the typed value field by field, so the
 * compiler holds it to that type, and keeps only the fields the type names.
 */

const hex = (length: number) => new RegExp(`^[0-9a-f]{${length}}$`);
const matching = (pattern: RegExp, expect: string): Rule => ({ test: (v) => pattern.test(v), expect });
const anyText = (expect: string): Rule => ({ test: () => true, expect });

const VERSION: Rule = { test: (v) => parseVersion(v) !== undefined, expect: `a semver tag such as "${VERSION_EXAMPLE}"` };
const COMMIT = matching(hex(40), 'the full commit SHA, 40 lower-case hex characters');
const IMAGE_DIGEST = matching(/^sha256:[0-9a-f]{64}$/, '"sha256:" and 64 lower-case hex characters');
const SHA256 = matching(hex(64), "the file's SHA-256 as 64 lower-case hex characters");
const BUILD_PATH: Rule = { test: isSafeRelativePath, expect: 'a relative path inside the build (no "..", no leading "/")' };
const SUITE_NAME: Rule = { test: (v) => v.length > 0, expect: "the suite's name, not empty" };
const SERVICE = anyText('the service name');
const TIME = anyText('an ISO 8601 time');
const COUNT = 'a whole number, 0 or more';

/** An optional list of full commit SHAs (a manifest's `commits`, CI's `fixes`); absent stays absent. */
function commitList(fields: Fields, name: string, raw: unknown, issues: FieldIssue[]): string[] | undefined {
  if ((raw as Record<string, unknown>)[name] === undefined) return undefined;
  return fields.list(name, name, `list at least one commit, or leave "${name}" out`).flatMap((item, i): string[] => {
    if (typeof item === 'string' && COMMIT.test(item)) return [item];
    issues.push({ field: `${name}[${i}]`, problem: `expected ${COMMIT.expect}, got ${JSON.stringify(item)?.slice(0, 60)}` });
    return [];
  });
}

/** Bounds of a manifest's `changes` (release-notes.ts): a subject is one line of a commit message. */
export const MAX_CHANGES = 1000;
export const MAX_SUBJECT = 300;
const ONE_LINE = /^[^\u0000-\u001f\u007f]+$/;
const SUBJECT: Rule = { test: (v) => v.trim().length > 0 && v.length <= MAX_SUBJECT && ONE_LINE.test(v), expect: `the commit's subject line, not empty, at most ${MAX_SUBJECT} characters, no control characters` };
const AUTHOR: Rule = { test: (v) => v.length > 0 && v.length <= 200 && ONE_LINE.test(v), expect: 'the author\'s name, at most 200 characters, no control characters' };
const DATE: Rule = { test: (v) => !Number.isNaN(Date.parse(v)), expect: 'an ISO 8601 time, as git log %aI gives' };

/** A manifest's `changes`: the commits since the previous release, each checked; absent stays absent. */
function changeList(fields: Fields, raw: unknown, issues: FieldIssue[]): ChangeEntry[] | undefined {
  if ((raw as Record<string, unknown>).changes === undefined) return undefined;
  const items = fields.list('changes', 'commits ({"sha","subject","author"?,"date"?})');
  if (items.length > MAX_CHANGES) issues.push({ field: 'changes', problem: `lists ${items.length} commits, at most ${MAX_CHANGES}; list those since the previous release tag (git log PREV..TAG)` });
  return items.slice(0, MAX_CHANGES).flatMap((item, i): ChangeEntry[] => {
    const c = fieldsOf(item, ['changes', i], issues);
    if (!c) return [];
    const sha = c.text('sha', COMMIT);
    const subject = c.text('subject', SUBJECT);
    const author = c.optionalText('author', AUTHOR);
    const date = c.optionalText('date', DATE);
    return [{ sha, subject, ...(author === undefined ? {} : { author }), ...(date === undefined ? {} : { date }) }];
  });
}

/** What is wrong with a list of changes by the manifest's rules (`publish-build --changes-file` checks before uploading). */
export function changeIssues(changes: readonly ChangeEntry[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const raw = { changes };
  const fields = fieldsOf(raw, [], issues);
  if (fields) changeList(fields, raw, issues);
  return issues;
}

function manifestFrom(raw: unknown, issues: FieldIssue[]): BuildManifest | undefined {
  const m = fieldsOf(raw, [], issues);
  if (!m) return undefined;
  // Read in the document's order, so the issues are listed in it.
  const service = m.text('service', SERVICE);
  const version = m.text('version', VERSION);
  const commit = m.text('commit', COMMIT);
  const build = m.optionalText('build', anyText('the build id'));
  const imageDigest = m.optionalText('imageDigest', IMAGE_DIGEST);
  const entry = m.optionalText('entry', BUILD_PATH);
  const commits = commitList(m, 'commits', raw, issues);
  const changes = changeList(m, raw, issues);
  const createdAt = m.text('createdAt', TIME);
  const files = m.list('files', 'files', 'a build lists at least one file').flatMap((item, i): ManifestFile[] => {
    const f = fieldsOf(item, ['files', i], issues);
    return f ? [{ path: f.text('path', BUILD_PATH), size: f.count('size', `${COUNT} (bytes)`), sha256: f.text('sha256', SHA256) }] : [];
  });
  const config = configFields(raw as Record<string, unknown>, issues);
  const schema = m.optionalCount('schema', 'the schema version the code expects, a whole number');
  const schemaCompat = compatList(raw as Record<string, unknown>, issues);
  const manifest: BuildManifest = {
    service,
    version,
    commit,
    ...(build === undefined ? {} : { build }),
    ...(imageDigest === undefined ? {} : { imageDigest }),
    ...(entry === undefined ? {} : { entry }),
    ...(commits === undefined ? {} : { commits }),
    ...(changes === undefined ? {} : { changes }),
    createdAt,
    files,
    ...config,
    ...(schema === undefined ? {} : { schema }),
    ...(schemaCompat === undefined ? {} : { schemaCompat }),
  };
  if (version) issues.push(...kindIssues(manifest));
  return manifest;
}

/** A config release's `kind`, `base` and `env` (config-release.ts); absent on a code build. */
function configFields(raw: Record<string, unknown>, issues: FieldIssue[]): Pick<BuildManifest, 'kind' | 'base' | 'env'> {
  const out: Pick<BuildManifest, 'kind' | 'base' | 'env'> = {};
  if (raw.kind !== undefined) {
    if (raw.kind === 'config') out.kind = 'config';
    else issues.push({ field: 'kind', problem: `expected "config" (a config-only release) or no kind (a code build), got ${JSON.stringify(raw.kind)?.slice(0, 40)}` });
  }
  if (raw.base !== undefined) {
    if (typeof raw.base === 'string' && parseVersion(raw.base)) out.base = raw.base;
    else issues.push({ field: 'base', problem: `expected the version of the build it ships, e.g. "${VERSION_EXAMPLE}", got ${JSON.stringify(raw.base)?.slice(0, 60)}` });
  }
  if (raw.env !== undefined) {
    if (raw.env === null || typeof raw.env !== 'object' || Array.isArray(raw.env)) issues.push({ field: 'env', problem: 'expected an object of variable names to string values, e.g. {"GREETING":"hi"}' });
    else {
      const problems = envIssues(raw.env as Record<string, unknown>);
      issues.push(...problems);
      if (problems.length === 0) out.env = { ...(raw.env as Record<string, string>) };
    }
  }
  return out;
}

/** `schemaCompat`: the schema versions the code runs against (schema-compat.ts). */
function compatList(raw: Record<string, unknown>, issues: FieldIssue[]): string[] | undefined {
  if (raw.schemaCompat === undefined) return undefined;
  if (!Array.isArray(raw.schemaCompat) || raw.schemaCompat.length === 0) {
    issues.push({ field: 'schemaCompat', problem: `expected a list of ${SCHEMA_COMPAT_EXPECT}, e.g. ["6", "7+"]` });
    return undefined;
  }
  return raw.schemaCompat.flatMap((entry, i): string[] => {
    if (typeof entry === 'string' && SCHEMA_COMPAT_ENTRY.test(entry)) return [entry];
    issues.push({ field: `schemaCompat[${i}]`, problem: `expected ${SCHEMA_COMPAT_EXPECT}, got ${JSON.stringify(entry)?.slice(0, 40)}` });
    return [];
  });
}

export function parseManifest(raw: unknown, where: string): BuildManifest {
  const issues: FieldIssue[] = [];
  const m = manifestFrom(raw, issues);
  if (!m || issues.length > 0) throw new ArtifactIntegrityError(`build manifest ${where} is malformed: ${listIssues(issues)}`);
  const paths = new Set<string>();
  for (const f of m.files) {
    if (paths.has(f.path)) throw new ArtifactIntegrityError(`build manifest ${where} lists ${f.path} twice`);
    paths.add(f.path);
  }
  if (m.entry && !paths.has(m.entry)) throw new ArtifactIntegrityError(`build manifest ${where}: entry ${m.entry} is not among its files`);
  return m;
}

function testReportFrom(raw: unknown, issues: FieldIssue[]): TestReport | undefined {
  const r = fieldsOf(raw, [], issues);
  if (!r) return undefined;
  const service = r.text('service', SERVICE);
  const commit = r.text('commit', anyText('the commit SHA the tests ran on'));
  const finishedAt = r.text('finishedAt', TIME);
  const suites = r.list('suites', 'test suites').flatMap((item, i): SuiteResult[] => {
    const s = fieldsOf(item, ['suites', i], issues);
    if (!s) return [];
    const name = s.text('name', SUITE_NAME);
    const passed = s.count('passed', COUNT);
    const failed = s.count('failed', COUNT);
    const skipped = s.optionalCount('skipped', COUNT);
    return [{ name, passed, failed, ...(skipped === undefined ? {} : { skipped }) }];
  });
  // Read after the suites, in the document's order.
  const fixes = commitList(r, 'fixes', raw, issues);
  return { service, commit, finishedAt, suites, ...(fixes === undefined ? {} : { fixes }) };
}

/** The CI results, or what is wrong with them. */
export function parseTestReport(raw: unknown): TestReport | string {
  const issues: FieldIssue[] = [];
  const report = testReportFrom(raw, issues);
  return !report || issues.length > 0 ? listIssues(issues) : report;
}

/** SHA-256 and size of a stream of chunks, without holding the whole object. */
export async function digest(chunks: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

export const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

export function describeMismatch(file: ManifestFile, actual: { sha256: string; size: number }, where: string): string {
  if (actual.size !== file.size) return `${where}: ${file.path} is ${actual.size} bytes, the manifest says ${file.size}`;
  return `${where}: ${file.path} has SHA-256 ${actual.sha256}, the manifest says ${file.sha256}`;
}

/** What the later steps need of a verified manifest. */
export function resolvedFrom(manifest: BuildManifest, manifestKey: string, imageDigest?: string): ResolvedArtifact {
  const digestOf = manifest.imageDigest ?? imageDigest;
  return {
    manifestKey,
    commit: manifest.commit,
    ...(digestOf ? { imageDigest: digestOf } : {}),
    ...(manifest.entry ? { entry: manifest.entry } : {}),
    files: manifest.files,
    totalBytes: manifest.files.reduce((n, f) => n + f.size, 0),
    ...(manifest.kind === 'config' && manifest.base ? { config: { base: manifest.base, env: manifest.env ?? {} } } : {}),
    ...(manifest.schema === undefined ? {} : { schema: manifest.schema }),
  };
}
