import { errorMessage, errorName } from '../errors.js';
import type { Deps } from '../ports.js';
import type { ReleaseNotes } from '../release-notes.js';
import { releaseReport } from './index.js';
import { reportKey } from './key.js';

/**
 * Renders the release's report from the ledger and puts it in the artifacts bucket
 * (`reports/<service>/<version>.html`); its S3 URI, or null when it could not be written. A
 * report is for people: failing to write one is logged and never fails the release's outcome.
 */
export async function writeReleaseReport(deps: Pick<Deps, 'ledger' | 'clock' | 'store' | 'locations' | 'log'>, service: string, version: string, notes?: ReleaseNotes): Promise<string | null> {
  try {
    const html = await releaseReport(deps.ledger, service, version, deps.clock.now().toISOString(), notes);
    if (html === undefined) throw new Error(`the ledger has no release ${service} ${version}`);
    const loc = { bucket: deps.locations.artifactsBucket, key: reportKey(service, version) };
    await deps.store.put(loc, html, 'text/html; charset=utf-8');
    return `s3://${loc.bucket}/${loc.key}`;
  } catch (err) {
    deps.log?.error('release report not written; the outcome is recorded', { service, version, error: errorName(err), reason: errorMessage(err) });
    return null;
  }
}
