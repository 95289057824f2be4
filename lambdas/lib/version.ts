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

export const isPrerelease = (raw: string): boolean => parseVersion(raw)?.prerelease !== undefined;

/** Why a string is not a version, phrased for a person who typed it. */
export function versionProblem(raw: string): string | undefined {
  if (parseVersion(raw)) return undefined;
  if (/^\d+\.\d+\.\d+/.test(raw)) return `"${raw}" needs a leading "v", e.g. "v${raw}"`;
  if (/^v?\d+(\.\d+)?$/.test(raw)) return `"${raw}" is not a full semver tag: expected MAJOR.MINOR.PATCH, e.g. "${VERSION_EXAMPLE}"`;
  return `expected a semver tag such as "${VERSION_EXAMPLE}" or "v1.4.0-rc.1", got ${JSON.stringify(raw.slice(0, 80))}`;
}

export const SERVICE_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const ENVIRONMENT_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;
