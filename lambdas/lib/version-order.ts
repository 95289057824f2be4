import { configVersionOf, parseVersion, type ParsedVersion } from './version.js';

/**
 * Semver precedence of release versions (`v1.100.1` < `v1.101.0-rc.1` < `v1.101.0`), and
 * their lines: a line is MAJOR.MINOR, and its patches (`v1.100.1`, `v1.100.2`) are its dot
 * releases. Build metadata does not order.
 */

function parsed(raw: string): ParsedVersion {
  const v = parseVersion(raw);
  if (!v) throw new Error(`"${raw}" is not a release version`);
  return v;
}

/** Pre-release identifiers, compared as semver says: numbers numerically and below words. */
function comparePrerelease(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  const as = a.split('.');
  const bs = b.split('.');
  for (let i = 0; i < Math.max(as.length, bs.length); i++) {
    const x = as[i];
    const y = bs[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * Negative when `a` comes before `b`, 0 when they are the same release, positive after. A config
 * version (`v1.4.0-config.2`, version.ts) comes right after its base and its earlier revisions,
 * before the base's next version: it is not a pre-release of its base.
 */
export function compareVersions(a: string, b: string): number {
  const ca = configVersionOf(a);
  const cb = configVersionOf(b);
  if (ca || cb) return compareVersions(ca?.base ?? a, cb?.base ?? b) || (ca?.revision ?? 0) - (cb?.revision ?? 0);
  const x = parsed(a);
  const y = parsed(b);
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch || comparePrerelease(x.prerelease, y.prerelease);
}

/** `v1.100.1` → `1.100`. */
export const lineOf = (raw: string): string => {
  const v = parsed(raw);
  return `${v.major}.${v.minor}`;
};

/** Negative when `a`'s line is older than `b`'s, 0 on the same line. */
export function compareLines(a: string, b: string): number {
  const x = parsed(a);
  const y = parsed(b);
  return x.major - y.major || x.minor - y.minor;
}
