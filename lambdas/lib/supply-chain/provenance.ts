import type { KeyObject } from 'node:crypto';
import { TagflowError } from '../errors.js';
import type { ManifestFile } from '../types.js';
import { DsseError, IN_TOTO_PAYLOAD_TYPE, parseEnvelope, verifyEnvelope } from './dsse.js';

/**
 * SLSA v1 provenance in an in-toto Statement v1 (issue 17): what the build is (subjects and
 * their digests), what it was built from (resolvedDependencies, a git commit) and who built it
 * (runDetails.builder.id). CI uploads it beside the build, as a DSSE envelope signed by the
 * pipeline's key or, with signatures off, as the bare statement.
 */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

export interface StatementSubject {
  name: string;
  digest: Record<string, string>;
}

export interface ResourceDescriptor {
  uri?: string;
  digest?: Record<string, string>;
  name?: string;
}

export interface SlsaProvenance {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies?: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata?: { invocationId?: string; startedOn?: string; finishedOn?: string };
  };
}

export interface ProvenanceStatement {
  _type: typeof STATEMENT_TYPE;
  subject: StatementSubject[];
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: SlsaProvenance;
}

/** The provenance does not describe this release: names the field and both values. */
export class ProvenanceMismatch extends TagflowError {
  override readonly name = 'ProvenanceMismatch';
  constructor(
    readonly field: string,
    readonly provenanceValue: string,
    readonly releaseValue: string,
    message: string,
  ) {
    super(message);
  }
}

/** Required, but absent, unreadable, or not signed by the pipeline's key. */
export class ProvenanceMissing extends TagflowError {
  override readonly name = 'ProvenanceMissing';
}

/** The build type tagflow's own CI side writes (local/runtime/attestations.ts). */
export const TAGFLOW_BUILD_TYPE = 'https://tagflow.dev/build/v1';

/** A statement for these files and this source; CI makes it, tests make wrong ones. */
export function provenanceStatement(p: {
  files: Pick<ManifestFile, 'path' | 'sha256'>[];
  imageDigest?: string;
  image?: string;
  repository: string;
  ref?: string;
  commit: string;
  builder: string;
  invocationId?: string;
  startedOn?: string;
}): ProvenanceStatement {
  const uri = `${gitUri(p.repository)}${p.ref ? `@${p.ref}` : ''}`;
  return {
    _type: STATEMENT_TYPE,
    subject: [
      ...p.files.map((f) => ({ name: f.path, digest: { sha256: f.sha256 } })),
      ...(p.imageDigest ? [{ name: p.image ?? 'image', digest: { sha256: p.imageDigest.replace(/^sha256:/, '') } }] : []),
    ],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: TAGFLOW_BUILD_TYPE,
        externalParameters: { source: uri },
        resolvedDependencies: [{ uri, digest: { gitCommit: p.commit } }],
      },
      runDetails: {
        builder: { id: p.builder },
        ...(p.invocationId || p.startedOn ? { metadata: { ...(p.invocationId ? { invocationId: p.invocationId } : {}), ...(p.startedOn ? { startedOn: p.startedOn } : {}) } } : {}),
      },
    },
  };
}

/** `acme/shop`, `https://github.com/acme/shop` or `git+https://…` as a `git+` URI. */
export const gitUri = (repository: string): string =>
  repository.startsWith('git+') ? repository : /^[\w.-]+\/[\w.-]+$/.test(repository) ? `git+https://github.com/${repository}` : `git+${repository}`;

/** A repository as compared: no `git+`, no `.git`, no trailing slash, case-insensitive. */
const sameRepository = (a: string): string =>
  gitUri(a)
    .replace(/^git\+/, '')
    .replace(/\/$/, '')
    .replace(/\.git$/, '')
    .toLowerCase();

export interface ReadProvenance {
  statement: ProvenanceStatement;
  /** The key id whose signature was verified; absent: a bare statement. */
  keyid?: string;
}

/**
 * The statement in the uploaded bytes. With a public key the bytes must be a DSSE envelope
 * that key signed; without one, an envelope's payload or a bare statement is read as is.
 */
export function readProvenance(bytes: Uint8Array, where: string, publicKey?: KeyObject | string): ReadProvenance {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ProvenanceMissing(`${where} is not valid JSON: CI must upload an in-toto statement (or its DSSE envelope) there`);
  }
  const isEnvelope = typeof doc === 'object' && doc !== null && 'payloadType' in doc;
  let payload: unknown = doc;
  let keyid: string | undefined;
  try {
    if (publicKey) {
      if (!isEnvelope) throw new DsseError(`${where} is a bare statement, but signatures are required: CI must upload the statement as a DSSE envelope signed by the pipeline's key`);
      const env = parseEnvelope(doc, where);
      payload = JSON.parse(verifyEnvelope(env, publicKey, IN_TOTO_PAYLOAD_TYPE, where).toString('utf8'));
      keyid = env.signatures[0]?.keyid;
    } else if (isEnvelope) {
      const env = parseEnvelope(doc, where);
      if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new DsseError(`${where} holds a ${env.payloadType}, not an in-toto statement (${IN_TOTO_PAYLOAD_TYPE})`);
      payload = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'));
    }
  } catch (err) {
    if (err instanceof DsseError) throw new ProvenanceMissing(err.message);
    if (err instanceof SyntaxError) throw new ProvenanceMissing(`${where}: the envelope's payload is not JSON; CI must sign the in-toto statement itself`);
    throw err;
  }
  return { statement: parseStatement(payload, where), ...(keyid ? { keyid } : {}) };
}

/** The statement's shape, checked field by field so a later check never reads a missing one. */
export function parseStatement(raw: unknown, where: string): ProvenanceStatement {
  const o = raw as Partial<ProvenanceStatement> | null;
  const bad = (field: string, expect: string): never => {
    throw new ProvenanceMissing(`${where}: ${field} ${expect}; CI must upload an SLSA v1 provenance statement (${SLSA_PROVENANCE_V1})`);
  };
  if (!o || typeof o !== 'object' || Array.isArray(o)) return bad('the document', 'is not an object');
  if (o._type !== STATEMENT_TYPE) bad('_type', `is ${JSON.stringify(o._type)}, expected "${STATEMENT_TYPE}"`);
  if (o.predicateType !== SLSA_PROVENANCE_V1) bad('predicateType', `is ${JSON.stringify(o.predicateType)}, expected "${SLSA_PROVENANCE_V1}"`);
  if (!Array.isArray(o.subject) || o.subject.length === 0) bad('subject', 'is missing or empty');
  o.subject!.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !s.digest || typeof s.digest !== 'object') bad(`subject[${i}]`, 'needs a name and a digest');
  });
  const p = o.predicate as Partial<SlsaProvenance> | undefined;
  if (!p || typeof p !== 'object') return bad('predicate', 'is missing');
  if (!p.buildDefinition || typeof p.buildDefinition !== 'object') bad('predicate.buildDefinition', 'is missing');
  if (typeof p.runDetails?.builder?.id !== 'string') bad('predicate.runDetails.builder.id', 'is missing');
  if (p.buildDefinition!.resolvedDependencies !== undefined && !Array.isArray(p.buildDefinition!.resolvedDependencies)) bad('predicate.buildDefinition.resolvedDependencies', 'is not a list');
  return o as ProvenanceStatement;
}

/** What the provenance must match: the release's build and the service's policy. */
export interface ProvenanceExpectation {
  files: Pick<ManifestFile, 'path' | 'sha256'>[];
  imageDigest?: string | undefined;
  commit: string;
  /** `supplyChain.repository`; absent: any repository, the commit still must match. */
  repository?: string | undefined;
  builders: string[];
  /**
   * A config release ships its base build's code with config files CI never built: the base's
   * provenance then names only the code, so files it does not name are allowed (its subjects
   * must still match).
   */
  unbuiltFilesAllowed?: boolean;
}

export interface ProvenanceFacts {
  builder: string;
  commit: string;
  repository: string;
  subjects: number;
}

const short = (sha: string) => (/^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 12) + '…' : sha);

/** The source the statement names: the resolved dependency with a git commit. */
function sourceOf(st: ProvenanceStatement): { uri: string; commit: string } | undefined {
  const dep = (st.predicate.buildDefinition.resolvedDependencies ?? []).find((d) => typeof d?.digest?.gitCommit === 'string');
  return dep ? { uri: withoutRef(dep.uri ?? ''), commit: dep.digest!.gitCommit! } : undefined;
}

/** `git+https://github.com/o/r@refs/tags/v1` → `git+https://github.com/o/r`; an `@` before the path (ssh's `git@host`) stays. */
function withoutRef(uri: string): string {
  const scheme = uri.indexOf('://');
  const path = uri.indexOf('/', scheme < 0 ? 0 : scheme + 3);
  const at = uri.lastIndexOf('@');
  return path >= 0 && at > path ? uri.slice(0, at) : uri;
}

/** Checks the statement against the release; throws `ProvenanceMismatch` at the first difference. */
export function checkProvenance(st: ProvenanceStatement, want: ProvenanceExpectation, where: string): ProvenanceFacts {
  const mismatch = (field: string, theirs: string, ours: string, words: string): never => {
    throw new ProvenanceMismatch(field, theirs, ours, `${where}: ${words}; do not release this build: publish it again from the pipeline's CI, which writes its provenance`);
  };

  const builder = st.predicate.runDetails.builder.id;
  if (!want.builders.includes(builder))
    mismatch('runDetails.builder.id', builder, want.builders.join(', '), `provenance names builder ${builder}, which supplyChain.builders does not trust (${want.builders.join(', ') || 'none listed'})`);

  const source = sourceOf(st);
  if (!source) return mismatch('buildDefinition.resolvedDependencies', '(none)', want.commit, `provenance names no source commit (a resolvedDependencies entry with digest.gitCommit) but the release is for ${short(want.commit)}`);
  if (source.commit !== want.commit) mismatch('resolvedDependencies[].digest.gitCommit', source.commit, want.commit, `provenance names commit ${short(source.commit)} but the release is for ${short(want.commit)}`);
  if (want.repository && sameRepository(source.uri) !== sameRepository(want.repository))
    mismatch('resolvedDependencies[].uri', source.uri, want.repository, `provenance names repository ${source.uri || '(none)'} but supplyChain.repository is ${want.repository}`);

  const image = want.imageDigest?.replace(/^sha256:/, '');
  const bySha = new Map(st.subject.map((s) => [s.name, s.digest.sha256 ?? '(no sha256)']));
  for (const f of want.files) {
    const theirs = bySha.get(f.path);
    if (theirs === undefined && want.unbuiltFilesAllowed) continue;
    if (theirs === undefined) mismatch(`subject[${f.path}]`, '(absent)', f.sha256, `provenance has no subject for ${f.path}, which the manifest lists with sha256 ${f.sha256.slice(0, 12)}…`);
    if (theirs !== f.sha256) mismatch(`subject[${f.path}].digest.sha256`, theirs!, f.sha256, `provenance gives ${f.path} sha256 ${theirs!.slice(0, 12)}… but the manifest has ${f.sha256.slice(0, 12)}…`);
  }
  const listed = new Set(want.files.map((f) => f.path));
  const extra = st.subject.find((s) => !listed.has(s.name) && !(image && s.digest.sha256 === image));
  if (extra) mismatch(`subject[${extra.name}]`, extra.digest.sha256 ?? '(no sha256)', '(not in the manifest)', `provenance lists ${extra.name} (sha256 ${(extra.digest.sha256 ?? '').slice(0, 12)}…), which is neither a file of the manifest nor its image`);
  if (image && !st.subject.some((s) => s.digest.sha256 === image))
    mismatch('subject[image].digest.sha256', st.subject.map((s) => s.digest.sha256 ?? '').join(', '), `sha256:${image}`, `provenance has no subject with the build's image digest sha256:${image.slice(0, 12)}…`);

  return { builder, commit: source.commit, repository: source.uri, subjects: st.subject.length };
}
