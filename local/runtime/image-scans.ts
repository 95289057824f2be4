import { readFileSync } from 'node:fs';
import type { DescribeImageScanFindingsCommandOutput } from '@aws-sdk/client-ecr';
import { scanOfPages } from '../../lambdas/adapters/ecr-scan-findings.js';
import type { ObjectStore } from '../../lambdas/lib/ports.js';
import type { ImageRef, ImageScan, ImageScanSource } from '../../lambdas/lib/supply-chain/image-scan.js';
import { SEVERITIES, type Severity } from '../../lambdas/lib/supply-chain/vulnerability-gate.js';

/**
 * Locally there is no ECR: an image's scan is what a test or `tagflow local` recorded, an
 * answer of DescribeImageScanFindings as ECR gives it (basic or enhanced), kept in the local
 * artifacts bucket under `local-ecr-scans/` and read through the same parser as ECR's answer.
 */

export type RecordedScan = Pick<DescribeImageScanFindingsCommandOutput, 'imageScanStatus' | 'imageScanFindings'>;

const scanKey = (image: Pick<ImageRef, 'repository' | 'imageDigest'>) => {
  if (!/^[a-z0-9][a-z0-9._/-]*$/.test(image.repository) || !/^sha256:[0-9a-f]{64}$/.test(image.imageDigest))
    throw new Error(`not an ECR image: repository ${JSON.stringify(image.repository)}, digest ${JSON.stringify(image.imageDigest)} (expected sha256:<64 hex>)`);
  return `local-ecr-scans/${image.repository}/${image.imageDigest}.json`;
};

/** Records the scan the local runtime answers for this image (what ECR would say after scanning it). */
export async function recordImageScan(store: ObjectStore, bucket: string, image: Pick<ImageRef, 'repository' | 'imageDigest'>, scan: RecordedScan): Promise<void> {
  await store.put({ bucket, key: scanKey(image) }, JSON.stringify(scan, null, 2), 'application/json');
}

/** The local runtime's image scans: a recorded one, or none (as ECR's ScanNotFoundException). */
export function localImageScans(store: ObjectStore, bucket: string): ImageScanSource {
  return {
    async scan(image: ImageRef): Promise<ImageScan> {
      const bytes = await store.get({ bucket, key: scanKey(image) });
      if (!bytes) return { status: 'unavailable', detail: `no scan of it is recorded locally (ECR would answer ScanNotFoundException); record one with recordImageScan` };
      return scanOfPages([JSON.parse(new TextDecoder().decode(bytes)) as RecordedScan]);
    },
  };
}

/**
 * `tagflow local scan-image`: records what the local ECR answers for a service's image, read
 * from a file holding either the output of `aws ecr describe-image-scan-findings` or a plain
 * list of findings (`[{"id":"CVE-…","severity":"CRITICAL","package":"openssl","version":"3.0.2"}]`).
 * The repository is the service's `triggers.ecr` unless given. Returns the lines to print.
 */
export async function recordImageScanFile(
  store: ObjectStore,
  bucket: string,
  config: { services: Record<string, { triggers: { ecr?: string | undefined } }> },
  opts: { service: string; imageDigest: string; file: string; repository?: string },
): Promise<string[]> {
  const svc = config.services[opts.service];
  if (!svc) throw new Error(`--service ${JSON.stringify(opts.service)}: no such service in the config (${Object.keys(config.services).join(', ')})`);
  const repository = opts.repository ?? svc.triggers.ecr;
  if (!repository) throw new Error(`services.${opts.service}.triggers.ecr is not set: name the image's repository with --repository`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(opts.file, 'utf8'));
  } catch (err) {
    throw new Error(`--findings ${opts.file}: not a readable JSON file (${(err as Error).message})`);
  }
  const scan = Array.isArray(raw) ? basicScanOf(raw, opts.file) : (raw as RecordedScan);
  if (!Array.isArray(raw) && typeof (raw as RecordedScan)?.imageScanStatus?.status !== 'string')
    throw new Error(`--findings ${opts.file}: expected a list of findings, or the output of aws ecr describe-image-scan-findings (with imageScanStatus.status)`);
  await recordImageScan(store, bucket, { repository, imageDigest: opts.imageDigest }, scan);
  const read = scanOfPages([scan]);
  const found = read.status === 'complete' ? `${read.findings.length} findings (${read.scanner} scan)` : `a scan that is ${read.detail}`;
  return [`recorded for ${repository}@${opts.imageDigest}: ${found}; the vulnerability gate of ${opts.service} reads it`];
}

/** A plain findings list as a complete basic scan, each entry checked. */
function basicScanOf(list: unknown[], file: string): RecordedScan {
  const findings = list.map((f, i) => {
    const e = (f ?? {}) as Record<string, unknown>;
    if (typeof e.id !== 'string' || !e.id) throw new Error(`--findings ${file}: [${i}].id must be a vulnerability id such as "CVE-2024-12345"`);
    if (typeof e.severity !== 'string' || !(SEVERITIES as readonly string[]).includes(e.severity)) throw new Error(`--findings ${file}: [${i}].severity must be one of ${SEVERITIES.join(', ')}`);
    const attributes = [...(typeof e.package === 'string' ? [{ key: 'package_name', value: e.package }] : []), ...(typeof e.version === 'string' ? [{ key: 'package_version', value: e.version }] : [])];
    return { name: e.id, severity: e.severity as Severity, attributes };
  });
  return { imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' }, imageScanFindings: { findings } };
}
