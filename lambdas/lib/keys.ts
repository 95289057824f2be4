import { SERVICE_PATTERN, ENVIRONMENT_PATTERN, parseVersion } from './version.js';

/**
 * The S3 key layout. Every segment is checked here, whatever validated it before, so no
 * service, version, environment or file path can reach outside its prefix.
 */

function check(kind: string, value: string, ok: boolean): string {
  if (!ok) throw new Error(`refusing to build an S3 key from ${kind} ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

const service = (s: string) => check('service', s, SERVICE_PATTERN.test(s));
const version = (v: string) => check('version', v, parseVersion(v) !== undefined);
const environment = (e: string) => check('environment', e, ENVIRONMENT_PATTERN.test(e));
const commit = (c: string) => check('commit', c, /^[0-9a-f]{7,64}$/.test(c));

/** A relative file path inside a build: no `..`, no absolute paths, no control characters. */
export function isSafeRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > 512) return false;
  if (p.startsWith('/') || p.includes('\\') || /[\u0000-\u001f\u007f]/.test(p)) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}
const filePath = (p: string) => check('file path', p, isSafeRelativePath(p));

export const buildPrefix = (svc: string, ver: string) => `builds/${service(svc)}/${version(ver)}/`;
export const manifestKey = (svc: string, ver: string) => `${buildPrefix(svc, ver)}manifest.json`;
export const buildFileKey = (svc: string, ver: string, path: string) => `${buildPrefix(svc, ver)}files/${filePath(path)}`;
export const testReportKey = (svc: string, sha: string) => `ci/${service(svc)}/${commit(sha)}.json`;

export const environmentPrefix = (env: string, svc: string, ver: string) =>
  `${environment(env)}/${service(svc)}/${version(ver)}/`;
export const environmentFileKey = (env: string, svc: string, ver: string, path: string) =>
  `${environmentPrefix(env, svc, ver)}files/${filePath(path)}`;
export const environmentManifestKey = (env: string, svc: string, ver: string) =>
  `${environmentPrefix(env, svc, ver)}manifest.json`;

/**
 * A build's attestations (issue 17), beside its manifest: the manifest's DSSE signature, the
 * in-toto SLSA provenance (a DSSE envelope or a bare statement), and the CycloneDX SBOM.
 */
export const manifestSignatureKey = (svc: string, ver: string) => `${buildPrefix(svc, ver)}manifest.dsse.json`;
export const provenanceKey = (svc: string, ver: string) => `${buildPrefix(svc, ver)}provenance.intoto.json`;
export const sbomKey = (svc: string, ver: string) => `${buildPrefix(svc, ver)}sbom.cdx.json`;
/** Copies promoted with the build, and the verification summary an environment writes when the version is known-good there. */
export const environmentSignatureKey = (env: string, svc: string, ver: string) => `${environmentPrefix(env, svc, ver)}manifest.dsse.json`;
/** The signed verification summary beside a promoted copy (the only file attest-environment may write). */
export const VERIFICATION_SUMMARY_FILE = 'vsa.dsse.json';
export const verificationSummaryKey = (env: string, svc: string, ver: string) => `${environmentPrefix(env, svc, ver)}${VERIFICATION_SUMMARY_FILE}`;
