import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { loadReleaseNotes, NotesUnavailable } from '../../lambdas/lib/release-notes-source.js';
import { notesMarkdown, notesText, type ReleaseNotes } from '../../lambdas/lib/release-notes.js';
import { ENVIRONMENT_PATTERN, SERVICE_PATTERN, versionProblem } from '../../lambdas/lib/version.js';
import type { Backend } from './backend.js';
import { CliInputError } from './cli-errors.js';
import { nothingMatches } from './nothing-matches.js';

/**
 * `tagflow notes --service S --version V [--environment E] [--format text|markdown]`: the
 * commits the version brings since the previous known-good version of E (default: the last
 * environment of its release's plan, or of the service's config when it was not released yet),
 * by conventional-commit type. `--format markdown` is a GitHub release body
 * (`tagflow notes … --format markdown | gh release create V -F -`).
 */

export type NotesFormat = 'text' | 'markdown';
export const NOTES_FORMATS: readonly NotesFormat[] = ['text', 'markdown'];

export interface NotesOptions {
  environment?: string | undefined;
  format?: string | undefined;
}

export async function notesLines(b: Pick<Backend, 'ledger' | 'store' | 'artifactsBucket'> & { config?: PipelineConfig }, service: string, version: string, opts: NotesOptions = {}): Promise<string[]> {
  const problems: string[] = [];
  if (!SERVICE_PATTERN.test(service)) problems.push(`--service ${JSON.stringify(service.slice(0, 80))}: expected a service name (lower-case letters, digits and dashes), e.g. --service checkout`);
  const vp = versionProblem(version);
  if (vp) problems.push(`--version ${version}: ${vp}`);
  const format = opts.format ?? 'text';
  if (!(NOTES_FORMATS as readonly string[]).includes(format)) problems.push(`--format ${format}: expected one of ${NOTES_FORMATS.join(', ')}`);
  if (opts.environment !== undefined && !ENVIRONMENT_PATTERN.test(opts.environment)) problems.push(`--environment ${JSON.stringify(opts.environment.slice(0, 80))}: expected an environment name, e.g. --environment prod`);
  if (problems.length) throw new CliInputError(problems.join('; '));

  const configured = b.config?.services[service]?.environments.map((e) => e.name);
  if (opts.environment !== undefined && configured && !configured.includes(opts.environment)) throw nothingMatches('--environment', opts.environment, configured, 'environment', `of ${service}`);
  const plan = opts.environment ? undefined : ((await b.ledger.getRelease(service, version))?.plan ?? configured);
  try {
    const notes = await loadReleaseNotes({ ledger: b.ledger, store: b.store, artifactsBucket: b.artifactsBucket }, service, version, { environment: opts.environment, plan });
    return format === 'markdown' ? notesMarkdown(notes).trimEnd().split('\n') : notesText(notes);
  } catch (err) {
    if (err instanceof NotesUnavailable) throw new CliInputError(`${err.message}; publish the build first (tagflow local publish-build … --changes-file changes.tsv)`);
    throw err;
  }
}

/**
 * The notes for `tagflow report`'s Release notes section (pass them as `{ ...data, notes }` to
 * renderReport), as record-outcome made them; undefined when the build cannot be read, so the
 * report is written all the same, without that section.
 */
export async function notesForReport(b: Pick<Backend, 'ledger' | 'store' | 'artifactsBucket'>, service: string, version: string): Promise<ReleaseNotes | undefined> {
  try {
    return await loadReleaseNotes({ ledger: b.ledger, store: b.store, artifactsBucket: b.artifactsBucket }, service, version);
  } catch (err) {
    if (err instanceof NotesUnavailable) return undefined;
    // The store unreachable or refusing (a stack's S3 without read access): the report is still worth writing, without notes.
    console.error(`note: the report has no release notes: ${(err as Error).message}`);
    return undefined;
  }
}
