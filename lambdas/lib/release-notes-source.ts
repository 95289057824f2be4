import { manifestKey } from './keys.js';
import { parseManifest } from './manifest.js';
import type { Ledger, ObjectReader } from './ports.js';
import { releaseNotes, type ReleaseNotes } from './release-notes.js';
import { readJson } from './store-json.js';
import type { BuildManifest, EnvironmentState } from './types.js';
import { compareVersions } from './version-order.js';

/**
 * Reads what a release's notes are made of: its build manifest, the previous known-good
 * version of an environment (the ledger), and that version's manifest. Used by the outcome step
 * (report and event) and by `tagflow notes`.
 */

export interface NotesSources {
  ledger: Pick<Ledger, 'getEnvironment' | 'getRelease'>;
  store: ObjectReader;
  artifactsBucket: string;
}

/** Why a release's notes cannot be made (its manifest is missing or malformed). */
export class NotesUnavailable extends Error {
  override name = 'NotesUnavailable';
}

async function manifestOf(src: NotesSources, service: string, version: string): Promise<BuildManifest | string> {
  const where = `s3://${src.artifactsBucket}/${manifestKey(service, version)}`;
  const raw = await readJson(src.store, { bucket: src.artifactsBucket, key: manifestKey(service, version) });
  if (!raw) return `no build manifest at ${where}`;
  if (!raw.ok) return `its build manifest ${where} is not valid JSON`;
  try {
    return parseManifest(raw.value, where);
  } catch (err) {
    return (err as Error).message;
  }
}

const older = (a: string, b: string): boolean => {
  try {
    return compareVersions(a, b) < 0;
  } catch {
    return false;
  }
};

/**
 * The version the environment knew good before `version`: the newest of its known-good
 * versions (or what it serves) that is older than `version`. After the release succeeded there,
 * `version` heads the list, so this is the one before it.
 */
export function previousGoodVersion(state: Pick<EnvironmentState, 'goodVersions' | 'version'> | undefined, version: string): string | undefined {
  if (!state) return undefined;
  return [...state.goodVersions, ...(state.version ? [state.version] : [])].find((v) => v !== version && older(v, version));
}

/**
 * The release's notes since the previous known-good version of `environment` (default: the last
 * environment of the release's plan). Throws NotesUnavailable when the release's own manifest
 * cannot be read; a previous manifest that cannot be read leaves the notes at every listed change.
 */
export async function loadReleaseNotes(src: NotesSources, service: string, version: string, opts: { environment?: string | undefined; plan?: readonly string[] | undefined } = {}): Promise<ReleaseNotes> {
  const current = await manifestOf(src, service, version);
  if (typeof current === 'string') throw new NotesUnavailable(`${service} ${version} has no release notes: ${current}`);
  const plan = opts.plan ?? (opts.environment ? undefined : (await src.ledger.getRelease(service, version))?.plan);
  const environment = opts.environment ?? plan?.at(-1);
  const since = environment ? previousGoodVersion(await src.ledger.getEnvironment(service, environment), version) : undefined;
  const previous = since ? await manifestOf(src, service, since) : undefined;
  return releaseNotes({ service, version, environment, since, current, previous: typeof previous === 'string' ? undefined : previous });
}
