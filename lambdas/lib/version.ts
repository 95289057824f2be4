/** Release versions are git tags in semver form with a leading `v`: `v1.2.3`, `v1.2.3-rc.1`. */

const SEMVER =
  /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export const VERSION_EXAMPLE = 'v1.4.0';
export const MAX_VERSION_LENGTH = 128;

export interface ParsedVersion {
  raw: string;
  major: number;
  minor: number;
  patch: number;
  prerelease?: string;
  build?: string;
}

export function parseVersion(raw: string): ParsedVersion | undefined {
  if (raw.length > MAX_VERSION_LENGTH) return undefined;
  const m = SEMVER.exec(raw);
  if (!m) return undefined;
  return {
    raw,
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    ...(m[4] ? { prerelease: m[4] } : {}),
    ...(m[5] ? { build: m[5] } : {}),
  };
}

/**
 * CI names builds after the version they carry: `v1.2.3-build.456-abc1234` (an image tag:
 * ECR tags cannot hold semver's `+`) or `v1.2.3+build.456`. Both are builds of v1.2.3, not a
 * pre-release and not a version of their own, so a tag push of v1.2.3 and an image push of one
 * of its builds claim the same release.
 */
const BUILD_SUFFIX = /^(.+?)-build\.(\d{1,18})(?:-([0-9a-f]{7,40}))?$/;

export interface BuildId {
  /** The release version: the tag without its build part. */
  version: string;
  build?: string;
  /** The abbreviated commit a `-build.N-<sha>` suffix names. */
  commitPrefix?: string;
}

/** The release version a tag or an artifact id stands for; undefined when it is no version. */
export function releaseVersionOf(tag: string): BuildId | undefined {
  const suffixed = BUILD_SUFFIX.exec(tag);
  if (suffixed && parseVersion(suffixed[1]!) && !parseVersion(suffixed[1]!)!.build) {
    return { version: suffixed[1]!, build: suffixed[2]!, ...(suffixed[3] ? { commitPrefix: suffixed[3] } : {}) };
  }
  const v = parseVersion(tag);
  if (!v) return undefined;
  if (v.build === undefined) return { version: tag };
  return { version: tag.slice(0, tag.indexOf('+')), build: v.build };
}

/**
 * A config-only release ships a build that was released before with new configuration: its
 * version is the base build's version plus a config revision, `v1.4.0-config.1`,
 * `v1.4.0-config.2` (N from 1, no leading zero). It parses as semver (pre-release `config.N`)
 * but is no pre-release: it goes as far as its base would, and it is a version of its own (own
 * release record, own manifest in the build store, own ledger history).
 */
const CONFIG_SUFFIX = /^(.+)-config\.([1-9]\d{0,8})$/;

export interface ConfigVersion {
  /** The version of the build whose code it ships. */
  base: string;
  revision: number;
}

/** The base build and config revision of a config version; undefined for any other version. */
export function configVersionOf(raw: string): ConfigVersion | undefined {
  const m = CONFIG_SUFFIX.exec(raw);
  if (!m || !parseVersion(raw)) return undefined;
  const base = parseVersion(m[1]!);
  // The base is a plain release or pre-release version, never a build id or another config version.
  if (!base || base.build !== undefined || CONFIG_SUFFIX.test(m[1]!)) return undefined;
  return { base: m[1]!, revision: Number(m[2]) };
}

/** `code`: a build of new code; `config`: a build released before, with new configuration. */
export type ReleaseKind = 'code' | 'config';

export const releaseKindOf = (version: string): ReleaseKind => (configVersionOf(version) ? 'config' : 'code');

/** A pre-release stops early in the plan; a config version is one when its base is. */
export const isPrerelease = (raw: string): boolean => {
  const config = configVersionOf(raw);
  return parseVersion(config ? config.base : raw)?.prerelease !== undefined;
};

/** Why a string is not a version, phrased for a person who typed it. */
export function versionProblem(raw: string): string | undefined {
  if (parseVersion(raw)) return undefined;
  if (/^\d+\.\d+\.\d+/.test(raw)) return `"${raw}" needs a leading "v", e.g. "v${raw}"`;
  if (/^v?\d+(\.\d+)?$/.test(raw)) return `"${raw}" is not a full semver tag: expected MAJOR.MINOR.PATCH, e.g. "${VERSION_EXAMPLE}"`;
  return `expected a semver tag such as "${VERSION_EXAMPLE}" or "v1.4.0-rc.1", got ${JSON.stringify(raw.slice(0, 80))}`;
}

export const SERVICE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const ENVIRONMENT_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
