import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { provenanceKey, sbomKey } from '../../lambdas/lib/keys.js';
import type { ObjectStore } from '../../lambdas/lib/ports.js';
import { IN_TOTO_PAYLOAD_TYPE, type MessageSigner, signEnvelope } from '../../lambdas/lib/supply-chain/dsse.js';
import { provenanceStatement, type ProvenanceStatement } from '../../lambdas/lib/supply-chain/provenance.js';

/**
 * What CI attaches to a build besides its manifest (issue 17): an SLSA v1 provenance statement
 * for the build folder's files and a CycloneDX SBOM, made with the CycloneDX library. The demo
 * makes both here; a real CI would have its builder write the provenance.
 */

/** Paths under `dir`, relative, with `/`: as the manifest names them. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)).map((p) => `${name}/${p}`) : [name]));
}

/** The build folder's files with their SHA-256, as the manifest lists them. */
export function folderFiles(dir: string): { path: string; sha256: string }[] {
  return filesUnder(dir)
    .sort()
    .map((path) => ({ path, sha256: createHash('sha256').update(readFileSync(join(dir, path))).digest('hex') }));
}

export interface ProvenanceInput {
  dir: string;
  /** e.g. "acme/shop" or "git+https://github.com/acme/shop". */
  repository: string;
  /** e.g. "refs/tags/v1.2.3". */
  ref?: string;
  commit: string;
  /** `runDetails.builder.id`, one of the service's `supplyChain.builders`. */
  builder: string;
  imageDigest?: string;
  invocationId?: string;
  startedOn?: string;
}

export function makeProvenance(p: ProvenanceInput): ProvenanceStatement {
  const { dir, ...rest } = p;
  return provenanceStatement({ ...rest, files: folderFiles(dir) });
}

/** The statement in a DSSE envelope signed by CI's key (what `supplyChain.signatures: "required"` asks). */
export async function signProvenance(statement: ProvenanceStatement, signer: MessageSigner): Promise<string> {
  return JSON.stringify(await signEnvelope(signer, IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement))), null, 2);
}

/** The npm dependencies of the build's package.json; a range's leading ^, ~ or = is dropped. */
function npmDependencies(dir: string): { name: string; version: string }[] {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return [];
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: Record<string, string> };
  return Object.entries(pkg.dependencies ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, range]) => ({ name, version: range.replace(/^[\^~=v]+/, '') }));
}

/**
 * A CycloneDX 1.5 SBOM of the build: its package.json dependencies as npm libraries (with
 * purls), or, without one, its own files as `file` components with their SHA-256. Bom-refs are
 * derived from names, so the same folder gives the same bytes.
 */
export function makeSbom(p: { dir: string; service: string; version: string }): string {
  const bom = new Models.Bom();
  bom.metadata.component = new Models.Component(Enums.ComponentType.Application, p.service, { version: p.version, bomRef: `${p.service}@${p.version}` });
  const deps = npmDependencies(p.dir);
  if (deps.length > 0) {
    for (const d of deps) {
      const [namespace, name] = d.name.startsWith('@') ? (d.name.split('/') as [string, string]) : [undefined, d.name];
      const purl = new PackageURL('npm', namespace, name, d.version, undefined, undefined);
      bom.components.add(new Models.Component(Enums.ComponentType.Library, d.name, { version: d.version, purl: purl.toString(), bomRef: purl.toString() }));
    }
  } else {
    for (const f of folderFiles(p.dir)) {
      const c = new Models.Component(Enums.ComponentType.File, f.path, { bomRef: `file:${f.path}` });
      c.hashes.set(Enums.HashAlgorithm['SHA-256'], f.sha256);
      bom.components.add(c);
    }
  }
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot5));
  return serializer.serialize(bom, { sortLists: true, space: 2 });
}

export interface Attestations {
  provenance?: Uint8Array | string;
  sbom?: Uint8Array | string;
}

/**
 * What publish-build uploads when it signs the manifest: a bare provenance statement signed by
 * the same key (DSSE), so a pipeline with signatures required accepts it; an envelope CI signed
 * itself, and the SBOM, are left as they are.
 */
export async function withSignedProvenance(a: Attestations, signer: MessageSigner | undefined): Promise<Attestations> {
  if (!signer || a.provenance === undefined) return a;
  const doc = JSON.parse(Buffer.from(a.provenance).toString('utf8')) as { payloadType?: unknown };
  if (doc && typeof doc === 'object' && 'payloadType' in doc) return a;
  return { ...a, provenance: await signProvenance(doc as unknown as ProvenanceStatement, signer) };
}

/** Puts the attestations beside the build (builds/<service>/<version>/); call before publishing the manifest, whose presence says the build is complete. */
export async function uploadAttestations(store: ObjectStore, bucket: string, service: string, version: string, a: Attestations): Promise<string[]> {
  const keys: string[] = [];
  if (a.provenance !== undefined) {
    const key = provenanceKey(service, version);
    await store.put({ bucket, key }, a.provenance, 'application/json');
    keys.push(key);
  }
  if (a.sbom !== undefined) {
    const key = sbomKey(service, version);
    await store.put({ bucket, key }, a.sbom, 'application/vnd.cyclonedx+json');
    keys.push(key);
  }
  return keys;
}

/** The builder id the demo's provenance names (and its config trusts). */
export const DEMO_BUILDER = 'https://tagflow.dev/local-ci';
export const DEMO_REPOSITORY = 'git+https://github.com/acme/demo';

/**
 * The demo's attestations for one build folder: provenance (signed when a signer is given) and
 * an SBOM, ready for `uploadAttestations`.
 */
export async function demoAttestations(p: { dir: string; service: string; version: string; commit: string; repository?: string; builder?: string; signer?: MessageSigner }): Promise<{ provenance: string; sbom: string }> {
  const statement = makeProvenance({ dir: p.dir, repository: p.repository ?? DEMO_REPOSITORY, ref: `refs/tags/${p.version}`, commit: p.commit, builder: p.builder ?? DEMO_BUILDER });
  const provenance = p.signer ? await signProvenance(statement, p.signer) : JSON.stringify(statement, null, 2);
  return { provenance, sbom: makeSbom(p) };
}
