import type { Ledger } from '../ports.js';
import type { ReleaseNotes } from '../release-notes.js';
import { renderReport } from './render.js';

export { renderReport } from './render.js';
export { reportKey, REPORTS_PREFIX } from './key.js';
export { reportModel, type ReleaseData, type ReportModel } from './model.js';

/** What the ledger holds for one release, read for its report; undefined when there is no such release. */
export async function readReleaseData(ledger: Pick<Ledger, 'getRelease' | 'getOutcome' | 'decisions'>, service: string, version: string) {
  const release = await ledger.getRelease(service, version);
  if (!release) return undefined;
  const [outcome, decisions] = await Promise.all([ledger.getOutcome(service, version), ledger.decisions(service, version)]);
  return { release, outcome, decisions };
}

/** The release's report as one HTML page (with its notes when given), or undefined when the ledger has no such release. */
export async function releaseReport(ledger: Pick<Ledger, 'getRelease' | 'getOutcome' | 'decisions'>, service: string, version: string, generatedAt?: string, notes?: ReleaseNotes): Promise<string | undefined> {
  const data = await readReleaseData(ledger, service, version);
  return data && renderReport(notes ? { ...data, notes } : data, generatedAt ? { generatedAt } : {});
}
