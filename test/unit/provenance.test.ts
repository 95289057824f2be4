import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type MessageSigner, signEnvelope, IN_TOTO_PAYLOAD_TYPE, keyIdOf } from '../../lambdas/lib/supply-chain/dsse.js';
import { checkProvenance, ProvenanceMismatch, ProvenanceMissing, provenanceStatement, readProvenance, type ProvenanceExpectation } from '../../lambdas/lib/supply-chain/provenance.js';

const COMMIT = 'a'.repeat(40);
const OTHER = 'b'.repeat(40);
const FILES = [
  { path: 'app.mjs', sha256: '1'.repeat(64) },
  { path: 'lib/util.mjs', sha256: '2'.repeat(64) },
];
const BUILDER = 'https://github.com/actions/runner';
const WHERE = 's3://artifacts/builds/shop/v1.2.3/provenance.intoto.json';

const statement = (over: Partial<Parameters<typeof provenanceStatement>[0]> = {}) =>
  provenanceStatement({ files: FILES, repository: 'acme/shop', ref: 'refs/tags/v1.2.3', commit: COMMIT, builder: BUILDER, ...over });
const want = (over: Partial<ProvenanceExpectation> = {}): ProvenanceExpectation => ({ files: FILES, commit: COMMIT, repository: 'git+https://github.com/acme/shop', builders: [BUILDER], ...over });

function mismatchOf(fn: () => unknown): ProvenanceMismatch {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProvenanceMismatch) return err;
    throw err;
  }
  throw new Error('no ProvenanceMismatch');
}

const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signerOf = (k: ReturnType<typeof keyPair>): MessageSigner => ({
  keyid: async () => keyIdOf(k.publicKey),
  sign: async (m) => sign('sha256', m, { key: k.privateKey, dsaEncoding: 'der' }),
});
const pem = (k: ReturnType<typeof keyPair>) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const bytes = (x: unknown) => Buffer.from(JSON.stringify(x));

describe('SLSA v1 provenance', () => {
  it('is an in-toto Statement v1 naming the files, the git source at its ref and the builder', () => {
    const st = statement();
    expect(st).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://slsa.dev/provenance/v1', subject: [{ name: 'app.mjs', digest: { sha256: '1'.repeat(64) } }, { name: 'lib/util.mjs' }] });
    expect(st.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: 'git+https://github.com/acme/shop@refs/tags/v1.2.3', digest: { gitCommit: COMMIT } }]);
    expect(st.predicate.runDetails.builder.id).toBe(BUILDER);
  });

  it('matches a build of the same files, commit, repository and a trusted builder', () => {
    expect(checkProvenance(statement(), want(), WHERE)).toEqual({ builder: BUILDER, commit: COMMIT, repository: 'git+https://github.com/acme/shop', subjects: 2 });
    // The repository as a plain URL, with .git, compares equal.
    expect(checkProvenance(statement({ repository: 'https://github.com/Acme/shop.git' }), want(), WHERE).commit).toBe(COMMIT);
  });

  it('refuses a provenance for another commit, naming both', () => {
    const e = mismatchOf(() => checkProvenance(statement({ commit: OTHER }), want(), WHERE));
    expect(e.name).toBe('ProvenanceMismatch');
    expect([e.field, e.provenanceValue, e.releaseValue]).toEqual(['resolvedDependencies[].digest.gitCommit', OTHER, COMMIT]);
    expect(e.message).toContain('provenance names commit bbbbbbbbbbbb… but the release is for aaaaaaaaaaaa…');
    expect(e.message).toContain(WHERE);
  });

  it('refuses a builder the config does not trust, listing those it does', () => {
    const e = mismatchOf(() => checkProvenance(statement({ builder: 'https://evil.example/runner' }), want(), WHERE));
    expect(e.field).toBe('runDetails.builder.id');
    expect(e.message).toContain(`provenance names builder https://evil.example/runner, which supplyChain.builders does not trust (${BUILDER})`);
  });

  it('refuses a subject whose digest differs from the manifest', () => {
    const files = [FILES[0]!, { path: 'lib/util.mjs', sha256: '3'.repeat(64) }];
    const e = mismatchOf(() => checkProvenance(statement({ files }), want(), WHERE));
    expect([e.field, e.provenanceValue, e.releaseValue]).toEqual(['subject[lib/util.mjs].digest.sha256', '3'.repeat(64), '2'.repeat(64)]);
    expect(e.message).toContain('provenance gives lib/util.mjs sha256 333333333333… but the manifest has 222222222222…');
  });

  it('refuses a provenance missing a file, or naming one the manifest does not list', () => {
    expect(mismatchOf(() => checkProvenance(statement({ files: [FILES[0]!] }), want(), WHERE)).message).toContain('provenance has no subject for lib/util.mjs');
    const extra = mismatchOf(() => checkProvenance(statement({ files: [...FILES, { path: 'backdoor.mjs', sha256: '9'.repeat(64) }] }), want(), WHERE));
    expect(extra.field).toBe('subject[backdoor.mjs]');
  });

  it('refuses another repository when the config names one, and accepts any when it does not', () => {
    const e = mismatchOf(() => checkProvenance(statement({ repository: 'mallory/shop' }), want(), WHERE));
    expect([e.field, e.provenanceValue, e.releaseValue]).toEqual(['resolvedDependencies[].uri', 'git+https://github.com/mallory/shop', 'git+https://github.com/acme/shop']);
    expect(e.message).toContain('provenance names repository git+https://github.com/mallory/shop but supplyChain.repository is git+https://github.com/acme/shop');
    expect(checkProvenance(statement({ repository: 'mallory/shop' }), want({ repository: undefined }), WHERE).builder).toBe(BUILDER);
  });

  it("requires the image digest among the subjects when the build has one", () => {
    const image = `sha256:${'c'.repeat(64)}`;
    expect(checkProvenance(statement({ imageDigest: image, image: 'acme/shop' }), want({ imageDigest: image }), WHERE).subjects).toBe(3);
    const e = mismatchOf(() => checkProvenance(statement(), want({ imageDigest: image }), WHERE));
    expect(e.field).toBe('subject[image].digest.sha256');
    expect(e.message).toContain(`no subject with the build's image digest sha256:cccccccccccc`);
  });

  it('refuses a statement without a source commit', () => {
    const st = statement();
    st.predicate.buildDefinition.resolvedDependencies = [{ uri: 'https://registry.example/lib.tgz', digest: { sha256: 'd'.repeat(64) } }];
    expect(mismatchOf(() => checkProvenance(st, want(), WHERE)).field).toBe('buildDefinition.resolvedDependencies');
  });
});

describe('reading the uploaded provenance', () => {
  it('reads a bare statement when no key is asked for, and an unverified envelope payload', async () => {
    expect(readProvenance(bytes(statement()), WHERE).statement.subject).toHaveLength(2);
    const env = await signEnvelope(signerOf(keyPair()), IN_TOTO_PAYLOAD_TYPE, bytes(statement()));
    expect(readProvenance(bytes(env), WHERE)).not.toHaveProperty('keyid');
  });

  it('verifies a DSSE envelope with the pipeline key, and refuses another key or a bare statement', async () => {
    const ours = keyPair();
    const env = await signEnvelope(signerOf(ours), IN_TOTO_PAYLOAD_TYPE, bytes(statement()));
    expect(readProvenance(bytes(env), WHERE, pem(ours))).toMatchObject({ keyid: keyIdOf(ours.publicKey) });

    const theirs = await signEnvelope(signerOf(keyPair()), IN_TOTO_PAYLOAD_TYPE, bytes(statement()));
    expect(() => readProvenance(bytes(theirs), WHERE, pem(ours))).toThrow(/is signed by key .*not by the pipeline's signing key/);
    expect(() => readProvenance(bytes(statement()), WHERE, pem(ours))).toThrow(ProvenanceMissing);
    expect(() => readProvenance(bytes(statement()), WHERE, pem(ours))).toThrow(/bare statement, but signatures are required/);

    // A statement changed after it was signed.
    const tampered = { ...env, payload: Buffer.from(JSON.stringify(statement({ commit: OTHER }))).toString('base64') };
    expect(() => readProvenance(bytes(tampered), WHERE, pem(ours))).toThrow(/does not verify/);
  });

  it('names the field of a statement that is not SLSA v1', () => {
    expect(() => readProvenance(bytes({ ...statement(), predicateType: 'https://slsa.dev/provenance/v0.2' }), WHERE)).toThrow(/predicateType is "https:\/\/slsa.dev\/provenance\/v0.2", expected "https:\/\/slsa.dev\/provenance\/v1"/);
    expect(() => readProvenance(Buffer.from('{'), WHERE)).toThrow(/is not valid JSON/);
  });
});
