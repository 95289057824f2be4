import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { isSafeRelativePath } from '../../lambdas/lib/keys.js';
import { changeIssues } from '../../lambdas/lib/manifest.js';
import { CHANGE_LOG_FORMAT, parseChangeLog } from '../../lambdas/lib/release-notes.js';
import type { ChangeEntry } from '../../lambdas/lib/types.js';
import { closest } from '../../lambdas/lib/validation.js';
import { releaseVersionOf, SERVICE_PATTERN, versionProblem } from '../../lambdas/lib/version.js';
import type { PublishBuild } from '../runtime/ci.js';
import { CliInputError } from './cli-errors.js';

/**
 * `publish-build` checks its flags against the folder before it uploads anything: a build
 * published under a wrong commit or entry would make its release fail, and a version is
 * released once, so the mistake would cost the version.
 */

/** The flags refused, each problem naming its flag; the message lists them on one line. */
export class PublishRefused extends CliInputError {
  override name = 'PublishRefused';
  constructor(readonly problems: string[]) {
    super(`publish-build refused, nothing uploaded: ${problems.join('; ')}`);
  }
}

export interface PublishFlags {
  service?: string | undefined;
  version?: string | undefined;
  commit?: string | undefined;
  dir?: string | undefined;
  entry?: string | undefined;
  build?: string | undefined;
  imageDigest?: string | undefined;
  /** Comma-separated full SHAs: the commits the build contains. */
  commits?: string | undefined;
  /** A file of `git log --format='%H%x09%an%x09%aI%x09%s' PREV..TAG` lines (`-`: standard input): the release's notes. */
  changesFile?: string | undefined;
}

/** `--changes-file F`: the commits since the previous tag, checked by the manifest's rules; the problems name the flag. */
export function changesFromFile(file: string | undefined, problems: string[], read: (file: string) => string = (f) => readFileSync(f === '-' ? 0 : f, 'utf8')): ChangeEntry[] | undefined {
  if (file === undefined) return undefined;
  const how = `git log --format='${CHANGE_LOG_FORMAT}' PREV..TAG > ${file === '-' ? 'changes.tsv' : file}`;
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    problems.push(`--changes-file ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); write it with ${how}`);
    return undefined;
  }
  try {
    const changes = parseChangeLog(text, `--changes-file ${file}`);
    const issues = changeIssues(changes);
    problems.push(...issues.slice(0, 5).map((i) => `--changes-file ${file}: ${i.field}: ${i.problem}`));
    return changes;
  } catch (err) {
    problems.push(`${(err as Error).message}; write it with ${how}`);
    return undefined;
  }
}

/** `--commits a,b` / `--fixes a,b`: full SHAs, each checked; the problems name the flag. */
export function commitList(flag: string, text: string | undefined, problems: string[]): string[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(',').map((c) => c.trim()).filter(Boolean);
  if (list.length === 0) problems.push(`--${flag}: expected full commit SHAs separated by commas, e.g. --${flag} $(git rev-list -n 50 --no-merges HEAD | paste -sd,)`);
  for (const c of list) if (commitProblem(c)) problems.push(`--${flag} ${c.slice(0, 80)}: expected a full 40-character lower-case hex commit SHA`);
  return list;
}

/** Why a commit is not what the tests gate and the manifest match on (the full SHA), or undefined. */
export function commitProblem(commit: string): string | undefined {
  if (/^[0-9a-f]{40}$/.test(commit)) return undefined;
  if (/^[0-9a-fA-F]{40}$/.test(commit)) return `--commit ${commit}: expected lower-case hex, e.g. --commit ${commit.toLowerCase()}`;
  if (/^[0-9a-fA-F]{4,39}$/.test(commit)) return `--commit ${commit}: a short SHA; give the full 40-character commit (git rev-parse ${commit})`;
  return `--commit ${JSON.stringify(commit.slice(0, 80))}: expected the full 40-character lower-case hex commit SHA (git rev-parse HEAD)`;
}

/** Files under `dir`, as paths relative to it with `/`. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path).map((p) => `${name}/${p}`) : [relative(dir, path).split(sep).join('/')];
  });
}

/**
 * The publish-build flags, checked: every problem at once in one line, each naming its flag and
 * the form expected. With the config, the service must be one of it.
 */
export function validatePublishBuild(flags: PublishFlags, config?: PipelineConfig): PublishBuild {
  const problems: string[] = [];
  const need = (name: keyof PublishFlags, flag: string, example: string) => {
    const value = flags[name];
    if (typeof value === 'string' && value !== '') return value;
    problems.push(`--${flag} is required, e.g. --${flag} ${example}`);
    return undefined;
  };
  const service = need('service', 'service', 'checkout');
  const version = need('version', 'version', 'v1.4.0');
  const commit = need('commit', 'commit', '<40-hex sha>');
  const dir = need('dir', 'dir', 'dist/');

  if (service !== undefined) {
    const known = config ? Object.keys(config.services) : undefined;
    if (!SERVICE_PATTERN.test(service)) problems.push(`--service ${JSON.stringify(service.slice(0, 80))}: expected a service name (lower-case letters, digits and dashes), e.g. --service checkout`);
    else if (known && !known.includes(service)) {
      const guess = closest(service, known);
      problems.push(`--service ${service}: no such service in the config${guess ? `; did you mean ${guess}?` : ''} (services: ${known.join(', ')})`);
    }
  }
  if (version !== undefined) {
    const problem = versionProblem(version);
    const release = releaseVersionOf(version);
    if (problem) problems.push(`--version ${version}: ${problem}`);
    else if (release && release.version !== version) problems.push(`--version ${version}: a build of ${release.version}; publish it as --version ${release.version} --build ${release.build ?? '<id>'}`);
  }
  if (commit !== undefined) {
    const problem = commitProblem(commit);
    if (problem) problems.push(problem);
  }
  if (flags.imageDigest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(flags.imageDigest)) {
    problems.push(`--image-digest ${JSON.stringify(flags.imageDigest.slice(0, 80))}: expected "sha256:" and 64 lower-case hex characters, as docker inspect --format '{{index .RepoDigests 0}}' shows after the "@"`);
  }
  if (flags.build !== undefined && !/^[\w.-]{1,64}$/.test(flags.build)) problems.push(`--build ${JSON.stringify(flags.build.slice(0, 80))}: expected a build id of letters, digits, ".", "_" or "-", e.g. --build 456`);

  const commits = commitList('commits', flags.commits, problems);
  const changes = changesFromFile(flags.changesFile, problems);
  if (dir !== undefined) problems.push(...folderProblems(dir, flags.entry));
  else if (flags.entry !== undefined && !isSafeRelativePath(flags.entry)) problems.push(entryPathProblem(flags.entry));

  if (problems.length) throw new PublishRefused(problems);
  return {
    service: service!,
    version: version!,
    commit: commit!,
    dir: dir!,
    ...(flags.entry ? { entry: flags.entry } : {}),
    ...(flags.build ? { build: flags.build } : {}),
    ...(flags.imageDigest ? { imageDigest: flags.imageDigest } : {}),
    ...(commits ? { commits } : {}),
    ...(changes ? { changes } : {}),
  };
}

const entryPathProblem = (entry: string) => `--entry ${JSON.stringify(entry.slice(0, 80))}: expected a path inside --dir, relative, with "/" (e.g. --entry app.mjs)`;

function folderProblems(dir: string, entry: string | undefined): string[] {
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (!stat) return [`--dir ${dir}: no such folder`];
  if (!stat.isDirectory()) return [`--dir ${dir}: a file, not a folder; pass the folder holding the build`];
  const files = filesUnder(dir);
  if (files.length === 0) return [`--dir ${dir}: holds no files to publish`];
  const problems = files.filter((f) => !isSafeRelativePath(f)).slice(0, 3).map((f) => `--dir ${dir}: ${JSON.stringify(f)} cannot be published (control characters or "\\" in its path)`);
  if (entry !== undefined) {
    if (!isSafeRelativePath(entry)) problems.push(entryPathProblem(entry));
    else if (!files.includes(entry)) {
      const guess = closest(entry, files);
      problems.push(`--entry ${entry}: not among the ${files.length} files in ${dir}${guess ? `; did you mean --entry ${guess}?` : ` (${files.slice(0, 5).join(', ')}${files.length > 5 ? ', …' : ''})`}`);
    }
  }
  return problems;
}
