import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { TagflowError } from '../errors.js';
import type { SupplyChainPolicy } from './config.js';
import { DsseError, keyIdOf, MANIFEST_PAYLOAD_TYPE, parseEnvelope, verifyEnvelope } from './dsse.js';

/**
 * A build manifest is trusted only as the payload of a DSSE envelope signed by the pipeline's
 * key (issue 17): Resolve artifact checks the build's copy, Promote the environment's copy.
 */

/** The manifest's signature is missing, by another key, or does not cover these bytes. */
export class ManifestSignatureInvalid extends TagflowError {
  override readonly name = 'ManifestSignatureInvalid';
}

/** The key signatures are verified with, and words naming where it came from. */
export interface TrustedKey {
  key: KeyObject;
  keyid: string;
  /** e.g. "KMS key arn:aws:kms:…", "the pinned supplyChain.publicKey", "the data dir's key .tagflow/signing/public.pem". */
  source: string;
}

/** Where the pipeline's public key comes from when the config pins none (KMS in AWS, the data dir locally). */
export interface PublicKeySource {
  /** The key; throws a message saying how to provide one when there is none. */
  trusted(): Promise<TrustedKey>;
}

export const trustedKeyOf = (key: KeyObject | string, source: string): TrustedKey => {
  const k = typeof key === 'string' ? createPublicKey(key) : key;
  return { key: k, keyid: keyIdOf(k), source };
};

/** The pinned key of the policy wins (no call at all); otherwise the pipeline's source. */
export async function trustedKey(policy: Pick<SupplyChainPolicy, 'publicKey'>, source: PublicKeySource | undefined, service: string): Promise<TrustedKey> {
  if (policy.publicKey) {
    try {
      return trustedKeyOf(policy.publicKey, 'the pinned supplyChain.publicKey');
    } catch (err) {
      throw new ManifestSignatureInvalid(`services.${service}.supplyChain.publicKey is not a readable PEM public key (${(err as Error).message}): paste the SPKI PEM of the signing key ("-----BEGIN PUBLIC KEY-----…")`);
    }
  }
  if (!source)
    throw new ManifestSignatureInvalid(`${service} requires signed builds (supplyChain.signatures "required") but this pipeline has no key to verify them with: pin supplyChain.publicKey in the config, or deploy the stack with its signing key (SigningKeyArn), or locally run tagflow local keygen`);
  return source.trusted();
}

/** Why a signature was refused, for the ledger's evidence. */
export type SignatureProblem = 'unsigned' | 'malformed' | 'payload-type' | 'other-key' | 'bad-signature' | 'changed-after-signing';

export class SignatureRefused extends ManifestSignatureInvalid {
  constructor(
    message: string,
    readonly problem: SignatureProblem,
    readonly signedBy: string[] = [],
  ) {
    super(message);
  }
}

const short = (keyid: string) => keyid.slice(0, 16);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface SignedManifestAt {
  /** `s3://bucket/key` of manifest.json and of its envelope. */
  manifest: string;
  envelope: string;
  /** What to do about it, appended to each refusal. */
  remedy: string;
}

/**
 * The verified payload: the envelope's signature by `trusted` over a manifest payload type,
 * and the payload byte for byte equal to manifest.json. Throws `SignatureRefused` otherwise.
 */
export function verifySignedManifest(manifestBytes: Uint8Array, envelopeBytes: Uint8Array | undefined, trusted: TrustedKey, at: SignedManifestAt): Buffer {
  const refuse = (problem: SignatureProblem, what: string, signedBy: string[] = []): never => {
    throw new SignatureRefused(`${what}. ${at.remedy}`, problem, signedBy);
  };
  if (!envelopeBytes) return refuse('unsigned', `build manifest ${at.manifest} is not signed: there is no signature at ${at.envelope}, and signed builds are required (supplyChain.signatures "required")`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(envelopeBytes));
  } catch {
    return refuse('malformed', `the signature ${at.envelope} is not valid JSON (a DSSE envelope is expected)`);
  }
  let payload: Buffer;
  let signedBy: string[] = [];
  try {
    const envelope = parseEnvelope(raw, `the signature ${at.envelope}`);
    signedBy = envelope.signatures.map((s) => s.keyid).filter(Boolean);
    if (envelope.payloadType !== MANIFEST_PAYLOAD_TYPE)
      return refuse('payload-type', `the signature ${at.envelope} signs a "${envelope.payloadType}", not a build manifest ("${MANIFEST_PAYLOAD_TYPE}")`, signedBy);
    payload = verifyEnvelope(envelope, trusted.key, MANIFEST_PAYLOAD_TYPE, `the signature ${at.envelope}`);
  } catch (err) {
    if (!(err instanceof DsseError)) throw err;
    const other = signedBy.length > 0 && signedBy.every((k) => k !== trusted.keyid);
    if (other) return refuse('other-key', `build manifest ${at.manifest} is signed by key ${signedBy.map(short).join(', ')}, not by the pipeline's signing key ${short(trusted.keyid)} (${trusted.source})`, signedBy);
    if (/carries no signatures|is missing|not a DSSE envelope/.test(err.message)) return refuse('malformed', err.message, signedBy);
    // It names the pipeline's key yet does not verify: the envelope's payload was changed.
    const why = signedBy.includes(trusted.keyid) ? 'the signed manifest was changed after it was signed' : 'it was signed by another key (it names none) or changed after it was signed';
    return refuse('bad-signature', `the signature ${at.envelope} does not verify with the pipeline's signing key ${short(trusted.keyid)} (${trusted.source}): ${why}`, signedBy);
  }
  if (!payload.equals(Buffer.from(manifestBytes)))
    return refuse('changed-after-signing', `build manifest ${at.manifest} was changed after it was signed: its bytes (SHA-256 ${short(sha256(manifestBytes))}…) are not the signed ones in ${at.envelope} (SHA-256 ${short(sha256(payload))}…)`, signedBy);
  return payload;
}
