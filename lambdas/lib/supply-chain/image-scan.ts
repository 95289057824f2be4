import type { Clock } from '../ports.js';
import { ImageScanUnavailable, type Finding } from './vulnerability-gate.js';

/**
 * Where an image's scan findings come from: ECR's DescribeImageScanFindings in AWS
 * (`adapters/ecr-scan-findings.ts`), a recorded scan locally. One look, no waiting: the wait
 * for a scan in progress is `awaitImageScan`'s, on the step's clock.
 */
export interface ImageRef {
  repository: string;
  imageDigest: string;
  /** The registry's account, when the repository is not in the caller's own. */
  registryId?: string;
}

export type ImageScan =
  | { status: 'complete'; findings: Finding[]; scanner: 'basic' | 'enhanced'; completedAt?: string }
  | { status: 'pending'; detail: string }
  | { status: 'unavailable'; detail: string };

export interface ImageScanSource {
  scan(image: ImageRef): Promise<ImageScan>;
}

/** How often a scan in progress is asked again. */
export const SCAN_POLL_MS = 10_000;

/**
 * Asks until the scan is complete, waiting on `clock` while it is pending, for at most
 * `waitSeconds` from the first look; an unusable scan, or one still pending at the bound,
 * fails with `ImageScanUnavailable` naming the image and what to do.
 */
export async function awaitImageScan(source: ImageScanSource, image: ImageRef, opts: { waitSeconds: number; clock: Clock; pollMs?: number; bound?: string }): Promise<ImageScan & { status: 'complete' }> {
  const where = `${image.repository}@${image.imageDigest}`;
  const started = opts.clock.now().getTime();
  const deadline = started + opts.waitSeconds * 1000;
  for (;;) {
    const scan = await source.scan(image);
    if (scan.status === 'complete') return scan;
    if (scan.status === 'unavailable') throw new ImageScanUnavailable(`no usable vulnerability scan for image ${where}: ${scan.detail}. Turn on scanning for the repository (scan on push, or enhanced scanning), push or scan the image again (aws ecr start-image-scan), then retry the release`);
    const left = deadline - opts.clock.now().getTime();
    if (left <= 0) {
      throw new ImageScanUnavailable(
        `the vulnerability scan of image ${where} is still ${scan.detail} after ${Math.round((opts.clock.now().getTime() - started) / 1000)} s (${opts.bound ?? `supplyChain.scanWaitSeconds: ${opts.waitSeconds}`}). Retry the release once the scan completes, or raise supplyChain.scanWaitSeconds`,
      );
    }
    await opts.clock.sleep(Math.min(opts.pollMs ?? SCAN_POLL_MS, left));
  }
}
