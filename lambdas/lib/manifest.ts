import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ArtifactIntegrityError } from './errors.js';
import { isSafeRelativePath } from './keys.js';
import type { BuildManifest, ManifestFile, ResolvedArtifact, TestReport } from './types.js';
import { describeIssues } from './validation.js';
import { parseVersion } from './version.js';

const manifestSchema = z.object({
  service: z.string(),
  version: z.string().refine((v) => parseVersion(v) !== undefined, 'not a semver tag'),
  commit: z.string().regex(/^[0-9a-f]{40}$/, '40 lower-case hex characters'),
  build: z.string().optional(),
  imageDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/).optional(),
  entry: z.string().refine(isSafeRelativePath, 'a relative path inside the build').optional(),
  createdAt: z.string(),
  files: z
    .array(
      z.object({
        path: z.string().refine(isSafeRelativePath, 'a relative path inside the build (no "..", no leading "/")'),
        size: z.number().int().nonnegative(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex characters'),
      }),
    )
    .min(1, 'a build lists at least one file'),
});

export function parseManifest(raw: unknown, where: string): BuildManifest {
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const detail = describeIssues(result.error).map((i) => `${i.field}: ${i.problem}`).join('; ');
    throw new ArtifactIntegrityError(`build manifest ${where} is malformed: ${detail}`);
  }
  const m = result.data;
  const paths = new Set<string>();
  for (const f of m.files) {
    if (paths.has(f.path)) throw new ArtifactIntegrityError(`build manifest ${where} lists ${f.path} twice`);
    paths.add(f.path);
  }
  if (m.entry && !paths.has(m.entry)) throw new ArtifactIntegrityError(`build manifest ${where}: entry ${m.entry} is not among its files`);
  return m as BuildManifest;
}

const testReportSchema = z.object({
  service: z.string(),
  commit: z.string(),
  finishedAt: z.string(),
  suites: z.array(
    z.object({
      name: z.string().min(1),
      passed: z.number().int().nonnegative(),
      failed: z.number().int().nonnegative(),
      skipped: z.number().int().nonnegative().optional(),
    }),
  ),
});

export function parseTestReport(raw: unknown): TestReport | string {
  const result = testReportSchema.safeParse(raw);
  if (!result.success) return describeIssues(result.error).map((i) => `${i.field}: ${i.problem}`).join('; ');
  return result.data as TestReport;
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
  };
}
