import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Ledger } from '../../lambdas/lib/ports.js';
import type { ReleaseNotes } from '../../lambdas/lib/release-notes.js';
import { readReleaseData, renderReport } from '../../lambdas/lib/report/index.js';

/** `tagflow report` named a release the ledger does not hold (exit 2: the input, not the pipeline). */
export class ReleaseNotFound extends Error {
  readonly exitCode = 2;
  override name = 'ReleaseNotFound';
}

/** Where `tagflow report` writes without --out: beside the ledger, in the data folder. */
export const defaultReportFile = (dataDir: string, service: string, version: string): string => join(dataDir, 'reports', service, `${version}.html`);

/**
 * `tagflow report --service S --version V [--out FILE]`: the release's report, rendered from any
 * ledger (the local one, or the deployed table), written to one self-contained HTML file.
 */
export async function writeReport(
  ledger: Pick<Ledger, 'getRelease' | 'getOutcome' | 'decisions' | 'releases' | 'services'>,
  service: string,
  version: string,
  out?: string,
  opts: { dataDir?: string; now?: Date; notes?: ReleaseNotes | undefined } = {},
): Promise<{ file: string; summary: string }> {
  const data = await readReleaseData(ledger, service, version);
  if (!data) throw new ReleaseNotFound(await notFound(ledger, service, version));
  const file = resolve(out ?? defaultReportFile(opts.dataDir ?? '.tagflow', service, version));
  const html = renderReport(opts.notes ? { ...data, notes: opts.notes } : data, { generatedAt: (opts.now ?? new Date()).toISOString() });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, html);
  const verdict = data.outcome ? `${data.outcome.outcome}${data.outcome.reason ? `: ${data.outcome.reason}` : ''}` : 'no outcome yet';
  return { file, summary: `${service} ${version} (${verdict}) → ${file}` };
}

/** What to say when the release is not there: the service's releases, or the services the ledger knows, nearest first. */
async function notFound(ledger: Pick<Ledger, 'releases' | 'services'>, service: string, version: string): Promise<string> {
  const services = await ledger.services();
  if (!services.includes(service)) {
    const known = nearest(service, services);
    return `--service ${service}: the ledger has no release of ${service}; ${known.length ? `services with releases: ${known.join(', ')}` : 'it holds no release yet'}`;
  }
  // Latest first, so that among equally near names the newer comes first.
  const versions = (await ledger.releases(service)).sort((a, b) => Date.parse(b.release.startedAt) - Date.parse(a.release.startedAt)).map((r) => r.release.version);
  const near = nearest(version, versions);
  return `--version ${version}: ${service} has no release ${version}; ${near.length ? `its releases${versions.length > near.length ? ', nearest first' : ''}: ${near.join(', ')}` : 'it has none yet'}`;
}

/** Up to 8 names, nearest to `wanted` first (edit distance, then as listed). */
function nearest(wanted: string, names: string[]): string[] {
  return names
    .map((name, i) => ({ name, i, d: distance(wanted.toLowerCase(), name.toLowerCase()) }))
    .sort((a, b) => a.d - b.d || a.i - b.i)
    .slice(0, 8)
    .map((x) => x.name);
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
