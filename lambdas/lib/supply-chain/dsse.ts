import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';

/**
 * DSSE envelopes (in-toto's signing format, github.com/secure-systems-lab/dsse): the signature
 * covers the pre-authentication encoding of the payload type and the exact payload bytes, so a
 * signed document is read from the envelope, never re-serialised. Keys are ECDSA P-256 with
 * SHA-256, DER signatures: what KMS `ECC_NIST_P256` / `ECDSA_SHA_256` gives.
 */

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  /** Base64 of the signed bytes. */
  payload: string;
  signatures: DsseSignature[];
}

/** The payload types tagflow signs and reads. */
export const MANIFEST_PAYLOAD_TYPE = 'application/vnd.tagflow.manifest+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in bytes. */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.byteLength} `), type, Buffer.from(` ${payload.byteLength} `), Buffer.from(payload)]);
}

/**
 * Signs a message with ECDSA P-256 over its SHA-256 and returns the DER signature. The KMS
 * adapter sends the SHA-256 (`MessageType: DIGEST`), since a raw message is capped at 4 KB and
 * a manifest may be larger; a local key signs the message with Node's crypto.
 */
export interface MessageSigner {
  /** Names the key: SHA-256 of its DER SubjectPublicKeyInfo, hex (`keyIdOf`). */
  keyid(): Promise<string>;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export async function signEnvelope(signer: MessageSigner, payloadType: string, payload: Uint8Array): Promise<DsseEnvelope> {
  const sig = await signer.sign(pae(payloadType, payload));
  return { payloadType, payload: Buffer.from(payload).toString('base64'), signatures: [{ keyid: await signer.keyid(), sig: Buffer.from(sig).toString('base64') }] };
}

/** The key id tagflow uses: SHA-256 of the DER SubjectPublicKeyInfo, hex. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Why an envelope is not to be trusted, in words a release engineer can act on. */
export class DsseError extends Error {}

/** Reads an envelope's shape; throws `DsseError` naming the field. */
export function parseEnvelope(raw: unknown, where: string): DsseEnvelope {
  const o = raw as Partial<DsseEnvelope> | null;
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new DsseError(`${where} is not a DSSE envelope (expected an object with payloadType, payload and signatures)`);
  if (typeof o.payloadType !== 'string' || o.payloadType === '') throw new DsseError(`${where}: payloadType is missing`);
  if (typeof o.payload !== 'string') throw new DsseError(`${where}: payload is missing (base64 of the signed document)`);
  if (!Array.isArray(o.signatures) || o.signatures.length === 0) throw new DsseError(`${where} carries no signatures`);
  const signatures = o.signatures.map((s, i) => {
    if (!s || typeof s.sig !== 'string') throw new DsseError(`${where}: signatures[${i}].sig is missing`);
    return { keyid: typeof s.keyid === 'string' ? s.keyid : '', sig: s.sig };
  });
  return { payloadType: o.payloadType, payload: o.payload, signatures };
}

/**
 * The payload bytes when one of the envelope's signatures verifies with `publicKey` and the
 * payload type is the one expected; otherwise `DsseError` saying which.
 */
export function verifyEnvelope(envelope: DsseEnvelope, publicKey: KeyObject | string, expectedType: string, where: string): Buffer {
  if (envelope.payloadType !== expectedType) throw new DsseError(`${where} signs a ${envelope.payloadType}, not a ${expectedType}`);
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const payload = Buffer.from(envelope.payload, 'base64');
  const message = pae(envelope.payloadType, payload);
  const trusted = keyIdOf(key);
  const valid = envelope.signatures.some((s) => {
    try {
      return verifySignature('sha256', message, { key, dsaEncoding: 'der' }, Buffer.from(s.sig, 'base64'));
    } catch {
      return false;
    }
  });
  if (!valid) {
    const ids = envelope.signatures.map((s) => s.keyid || '(no keyid)').join(', ');
    const other = envelope.signatures.every((s) => s.keyid && s.keyid !== trusted);
    throw new DsseError(other ? `${where} is signed by key ${ids}, not by the pipeline's signing key ${trusted}` : `${where}: the signature does not verify with the pipeline's signing key ${trusted}: the document was changed after it was signed, or signed by another key`);
  }
  return payload;
}
