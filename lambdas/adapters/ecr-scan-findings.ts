import { DescribeImageScanFindingsCommand, type DescribeImageScanFindingsCommandOutput, type ECRClient } from '@aws-sdk/client-ecr';
import type { ImageRef, ImageScan, ImageScanSource } from '../lib/supply-chain/image-scan.js';
import { severityOf, type Finding } from '../lib/supply-chain/vulnerability-gate.js';
import { call } from './transient.js';

/**
 * ECR's DescribeImageScanFindings for one image digest, every page. Basic scanning answers
 * `findings[]` (the CVE as `name`, the package in `attributes`); enhanced scanning (Inspector)
 * answers `enhancedFindings[]` (`packageVulnerabilityDetails`), one finding per vulnerable
 * package. The scan's status says whether there is anything to read yet.
 */

/** Statuses with findings to read: basic scanning's COMPLETE, enhanced scanning's ACTIVE (continuously rescanned). */
const DONE = new Set(['COMPLETE', 'ACTIVE']);
const PENDING = new Set(['IN_PROGRESS', 'PENDING']);

type Page = Pick<DescribeImageScanFindingsCommandOutput, 'imageScanStatus' | 'imageScanFindings' | 'nextToken'>;

/** One page's findings: basic ones, and enhanced ones still ACTIVE (suppressed or closed findings do not count). */
export function findingsOfPage(page: Page): Finding[] {
  const out: Finding[] = [];
  for (const f of page.imageScanFindings?.findings ?? []) {
    if (!f.name) continue;
    const attr = (key: string) => f.attributes?.find((a) => a.key === key)?.value;
    const pkg = attr('package_name');
    const version = attr('package_version');
    out.push({ id: f.name, severity: severityOf(f.severity), ...(pkg ? { package: pkg } : {}), ...(version ? { version } : {}) });
  }
  for (const f of page.imageScanFindings?.enhancedFindings ?? []) {
    if (f.status && f.status !== 'ACTIVE') continue;
    const details = f.packageVulnerabilityDetails;
    const id = details?.vulnerabilityId ?? f.title;
    if (!id) continue;
    const severity = severityOf(f.severity);
    const packages = details?.vulnerablePackages ?? [];
    if (packages.length === 0) out.push({ id, severity });
    for (const p of packages) out.push({ id, severity, ...(p.name ? { package: p.name } : {}), ...(p.version ? { version: p.version } : {}) });
  }
  return out;
}

/** A whole answer (every page) as the gate reads it. */
export function scanOfPages(pages: Page[]): ImageScan {
  const first = pages[0];
  const status = first?.imageScanStatus?.status;
  const description = first?.imageScanStatus?.description;
  if (status && PENDING.has(status)) return { status: 'pending', detail: `${status}${description ? ` (${description})` : ''}` };
  if (!status || !DONE.has(status)) return { status: 'unavailable', detail: `its scan status is ${status ?? 'missing'}${description ? `: ${description}` : ''}` };
  const enhanced = pages.some((p) => (p.imageScanFindings?.enhancedFindings?.length ?? 0) > 0) || status === 'ACTIVE';
  const completedAt = first?.imageScanFindings?.imageScanCompletedAt;
  return { status: 'complete', findings: pages.flatMap(findingsOfPage), scanner: enhanced ? 'enhanced' : 'basic', ...(completedAt ? { completedAt: new Date(completedAt).toISOString() } : {}) };
}

/** Errors that mean there is no scan to read (the image, its repository, or its scan is not there). */
const NO_SCAN: Record<string, string> = {
  ScanNotFoundException: 'ECR has no scan of it (ScanNotFoundException): scanning is off for the repository, or the image was pushed before it was turned on',
  ImageNotFoundException: 'ECR has no such image in the repository (ImageNotFoundException)',
  RepositoryNotFoundException: 'the repository does not exist in this registry (RepositoryNotFoundException)',
};

export class EcrScanFindings implements ImageScanSource {
  constructor(private readonly ecr: ECRClient) {}

  async scan(image: ImageRef): Promise<ImageScan> {
    const pages: Page[] = [];
    let nextToken: string | undefined;
    try {
      do {
        const page = await call(`ECR DescribeImageScanFindings ${image.repository}@${image.imageDigest}`, () =>
          this.ecr.send(
            new DescribeImageScanFindingsCommand({
              repositoryName: image.repository,
              imageId: { imageDigest: image.imageDigest },
              ...(image.registryId ? { registryId: image.registryId } : {}),
              ...(nextToken ? { nextToken } : {}),
              maxResults: 1000,
            }),
          ),
        );
        pages.push(page);
        // A scan still running has no findings to page through.
        if (page.imageScanStatus?.status && !DONE.has(page.imageScanStatus.status)) break;
        nextToken = page.nextToken;
      } while (nextToken);
    } catch (err) {
      const why = NO_SCAN[(err as { name?: string }).name ?? ''];
      if (why) return { status: 'unavailable', detail: why };
      throw err;
    }
    return scanOfPages(pages);
  }
}
