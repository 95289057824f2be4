import { existsSync } from 'node:fs';
import { signingKeyPaths, writeKeyPair } from '../runtime/local-signer.js';
import { CliInputError } from './cli-errors.js';

/** A key pair exists and `--force` was not given: the person decides (exit 2). */
export class KeyExists extends CliInputError {
  override name = 'KeyExists';
}

export interface KeygenResult {
  keyid: string;
  privateKey: string;
  publicKey: string;
}

/**
 * `tagflow local keygen`: an ECDSA P-256 key pair in the data dir, the local stand-in for the
 * stack's KMS signing key. The private key is readable by its owner only (0600). An existing
 * pair is kept unless `force`: a new key makes every build signed with the old one unreleasable.
 */
export function keygen(dataDir: string, opts: { force?: boolean } = {}): KeygenResult {
  const paths = signingKeyPaths(dataDir);
  if (!opts.force && (existsSync(paths.privateKey) || existsSync(paths.publicKey)))
    throw new KeyExists(`a signing key already exists at ${paths.privateKey}: builds signed with it verify only with it; pass --force to replace it (then publish every build you still want to release again)`);
  return { keyid: writeKeyPair(paths), ...paths };
}

/** What `tagflow local keygen` prints. */
export const describeKeygen = (r: KeygenResult): string =>
  `signing key ${r.keyid}\n  private key ${r.privateKey} (mode 0600; publish-build signs with it)\n  public key  ${r.publicKey} (the local runtime verifies with it; pin it as supplyChain.publicKey to verify elsewhere)`;
