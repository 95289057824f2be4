import type { DescribeImageScanFindingsCommandOutput } from '@aws-sdk/client-ecr';
import { scanOfPages } from '../../lambdas/adapters/ecr-scan-findings.js';
import type { ObjectStore } from '../../lambdas/lib/ports.js';
import type { ImageRef, ImageScan, ImageScanSource } from '../../lambdas/lib/supply-chain/image-scan.js';

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
