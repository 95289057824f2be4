import { readFileSync } from 'node:fs';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { supplyChainPolicy } from '../../lambdas/lib/supply-chain/config.js';
import { checkProvenance, ProvenanceMismatch, ProvenanceMissing, readProvenance } from '../../lambdas/lib/supply-chain/provenance.js';
import { SbomInvalid } from '../../lambdas/lib/supply-chain/sbom.js';
import { readSbom } from '../../lambdas/lib/supply-chain/sbom-validate.js';
import { folderFiles, type Attestations } from '../runtime/attestations.js';
import { PublishRefused } from './publish-validate.js';

/**
 * `publish-build --provenance FILE --sbom FILE`: the files are checked as the release will check
 * them (the statement against the folder's files, --commit, and the config's builders and
 * repository; the SBOM against its CycloneDX schema) before anything is uploaded, so a build
 * is not published with attestations its release would refuse. Signatures are verified by the
 * release, not here: CI holds no verifying policy of its own.
 */
export interface AttestationFlags {
  provenance?: string | undefined;
  sbom?: string | undefined;
}

export interface PublishedBuild {
  service: string;
  version: string;
  commit: string;
  dir: string;
  imageDigest?: string | undefined;
}

const readFlag = (flag: string, file: string, problems: string[]): Uint8Array | undefined => {
  try {
    return readFileSync(file);
  } catch (err) {
    problems.push(`--${flag} ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
};

/** The attestation files' bytes, checked; `PublishRefused` lists every problem, each naming its flag. */
export async function attestationsFromFlags(flags: AttestationFlags, build: PublishedBuild, config?: PipelineConfig): Promise<Attestations> {
  const problems: string[] = [];
  const out: Attestations = {};
  const policy = supplyChainPolicy(undefined, config?.services[build.service]?.supplyChain);

  if (flags.provenance !== undefined) {
    const where = `--provenance ${flags.provenance}`;
    const bytes = readFlag('provenance', flags.provenance, problems);
    if (bytes) {
      try {
        const { statement } = readProvenance(bytes, where);
        const builders = policy.builders.length ? policy.builders : [statement.predicate.runDetails.builder.id];
        checkProvenance(statement, { files: folderFiles(build.dir), imageDigest: build.imageDigest, commit: build.commit, repository: policy.repository, builders }, where);
        out.provenance = bytes;
      } catch (err) {
        if (!(err instanceof ProvenanceMismatch || err instanceof ProvenanceMissing)) throw err;
        problems.push(err.message.replace(/; do not release this build.*$/, ''));
      }
    }
  }

  if (flags.sbom !== undefined) {
    const bytes = readFlag('sbom', flags.sbom, problems);
    if (bytes) {
      try {
        await readSbom(bytes, `--sbom ${flags.sbom}`);
        out.sbom = bytes;
      } catch (err) {
        if (!(err instanceof SbomInvalid)) throw err;
        problems.push(err.message);
      }
    }
  }

  if (problems.length) throw new PublishRefused(problems);
  return out;
}
