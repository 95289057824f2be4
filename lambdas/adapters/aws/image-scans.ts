import { ECRClient } from '@aws-sdk/client-ecr';
import { once } from '../../lib/step-handler.js';
import type { ImageScanSource } from '../../lib/supply-chain/image-scan.js';
import { EcrScanFindings } from '../ecr-scan-findings.js';

/** ECR's scans of the images releases name (DescribeImageScanFindings only), for the vulnerability gate. */
export const imageScans = once((): ImageScanSource => new EcrScanFindings(new ECRClient({})));
