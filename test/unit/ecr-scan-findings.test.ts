import { DescribeImageScanFindingsCommand, ECRClient, ScanNotFoundException, type DescribeImageScanFindingsCommandOutput } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EcrScanFindings } from '../../lambdas/adapters/ecr-scan-findings.js';
import { awaitImageScan } from '../../lambdas/lib/supply-chain/image-scan.js';
import { IMAGE_SCAN_ACTIONS, STEP_ACCESS } from '../../infra/step-access.js';

/**
 * ECR's DescribeImageScanFindings as the vulnerability gate reads it (issue 17), against a
 * mocked client answering as ECR does: basic scanning (findings[] with package attributes),
 * enhanced scanning (Inspector's enhancedFindings[]), pages, a scan in progress, none at all.
 */

const ecrMock = mockClient(ECRClient);
beforeEach(() => ecrMock.reset());
afterAll(() => ecrMock.restore());

const DIGEST = 'sha256:0d1ed0b8b1d4d1a1e8a4ec1b8d1f1b8a3c5e5ad6a2f5c77a2f2d3a7b8c9d0e1f';
const image = { repository: 'shop', imageDigest: DIGEST };
const gate = new EcrScanFindings(new ECRClient({ region: 'eu-west-1', maxAttempts: 1 }));
const common = { registryId: '111122223333', repositoryName: 'shop', imageId: { imageDigest: DIGEST, imageTag: 'v1.2.0' }, $metadata: {} };

/** A basic scan's finding as ECR lists it: the CVE as name, the package in attributes. */
const basic = (name: string, severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL' | 'UNDEFINED', pkg: string, version: string) => ({
  name,
  description: `${name} in ${pkg}`,
  uri: `https://security-tracker.debian.org/tracker/${name}`,
  severity,
  attributes: [
    { key: 'package_version', value: version },
    { key: 'package_name', value: pkg },
    { key: 'CVSS2_VECTOR', value: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' },
    { key: 'CVSS2_SCORE', value: '7.5' },
  ],
});

const basicComplete = (findings: ReturnType<typeof basic>[], nextToken?: string): DescribeImageScanFindingsCommandOutput => ({
  ...common,
  imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' },
  imageScanFindings: { imageScanCompletedAt: new Date('2026-11-30T10:00:00Z'), vulnerabilitySourceUpdatedAt: new Date('2026-11-30T08:00:00Z'), findingSeverityCounts: { CRITICAL: 1, HIGH: 1 }, findings },
  ...(nextToken ? { nextToken } : {}),
});

/** An enhanced (Inspector) finding as ECR returns it. */
const enhanced = (id: string, severity: string, packages: { name: string; version: string }[], status = 'ACTIVE') => ({
  awsAccountId: '111122223333',
  description: `${id} description`,
  findingArn: `arn:aws:inspector2:eu-west-1:111122223333:finding/${id.toLowerCase()}`,
  firstObservedAt: new Date('2026-11-30T10:00:00Z'),
  lastObservedAt: new Date('2026-11-30T10:00:00Z'),
  packageVulnerabilityDetails: {
    cvss: [{ baseScore: 9.8, scoringVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', source: 'NVD', version: '3.1' }],
    referenceUrls: [`https://nvd.nist.gov/vuln/detail/${id}`],
    source: 'NVD',
    sourceUrl: `https://nvd.nist.gov/vuln/detail/${id}`,
    vendorCreatedAt: new Date('2026-10-01T00:00:00Z'),
    vendorSeverity: severity,
    vulnerabilityId: id,
    vulnerablePackages: packages.map((p) => ({ arch: 'X86_64', epoch: 0, name: p.name, packageManager: 'OS', release: '1.el9', sourceLayerHash: 'sha256:1f2e', version: p.version, fixedInVersion: 'NotAvailable' })),
  },
  remediation: { recommendation: { text: 'None Provided' } },
  resources: [{ id: `arn:aws:ecr:eu-west-1:111122223333:repository/shop/${DIGEST}`, type: 'AWS_ECR_CONTAINER_IMAGE', details: { awsEcrContainerImage: { repositoryName: 'shop', imageHash: DIGEST, imageTags: ['v1.2.0'] } } }],
  score: 9.8,
  severity,
  status,
  title: `${id} - ${packages[0]?.name ?? ''}`,
  type: 'PACKAGE_VULNERABILITY',
  updatedAt: new Date('2026-11-30T10:00:00Z'),
  fixAvailable: 'NO',
  exploitAvailable: 'YES',
});

describe('EcrScanFindings', () => {
  it('basic scanning: each finding with its severity and package, asked for this digest', async () => {
    ecrMock.on(DescribeImageScanFindingsCommand).resolves(basicComplete([basic('CVE-2024-5535', 'CRITICAL', 'openssl', '3.0.2-0ubuntu1.15'), basic('CVE-2023-4911', 'HIGH', 'glibc', '2.35-0ubuntu3.1')]));
    expect(await gate.scan(image)).toEqual({
      status: 'complete',
      scanner: 'basic',
      completedAt: '2026-11-30T10:00:00.000Z',
      findings: [
        { id: 'CVE-2024-5535', severity: 'CRITICAL', package: 'openssl', version: '3.0.2-0ubuntu1.15' },
        { id: 'CVE-2023-4911', severity: 'HIGH', package: 'glibc', version: '2.35-0ubuntu3.1' },
      ],
    });
    expect(ecrMock.commandCalls(DescribeImageScanFindingsCommand).map((c) => c.args[0].input)).toEqual([{ repositoryName: 'shop', imageId: { imageDigest: DIGEST }, maxResults: 1000 }]);
  });

  it('enhanced scanning: one finding per vulnerable package; suppressed and closed findings do not count; UNTRIAGED is unrated', async () => {
    ecrMock.on(DescribeImageScanFindingsCommand).resolves({
      ...common,
      imageScanStatus: { status: 'ACTIVE', description: 'Continuous scan is selected for image.' },
      imageScanFindings: {
        enhancedFindings: [
          enhanced('CVE-2024-6387', 'CRITICAL', [{ name: 'openssh', version: '8.7p1' }, { name: 'openssh-clients', version: '8.7p1' }]),
          enhanced('CVE-2023-0001', 'HIGH', [{ name: 'curl', version: '7.76.1' }], 'SUPPRESSED'),
          enhanced('CVE-2023-0002', 'HIGH', [{ name: 'curl', version: '7.76.1' }], 'CLOSED'),
          enhanced('CVE-2023-0003', 'UNTRIAGED', [{ name: 'tar', version: '1.34' }]),
        ],
      },
    });
    expect(await gate.scan({ ...image, registryId: '111122223333' })).toEqual({
      status: 'complete',
      scanner: 'enhanced',
      findings: [
        { id: 'CVE-2024-6387', severity: 'CRITICAL', package: 'openssh', version: '8.7p1' },
        { id: 'CVE-2024-6387', severity: 'CRITICAL', package: 'openssh-clients', version: '8.7p1' },
        { id: 'CVE-2023-0003', severity: 'UNDEFINED', package: 'tar', version: '1.34' },
      ],
    });
    expect(ecrMock.commandCalls(DescribeImageScanFindingsCommand)[0]!.args[0].input).toMatchObject({ registryId: '111122223333' });
  });

  it('reads every page, passing nextToken on', async () => {
    ecrMock
      .on(DescribeImageScanFindingsCommand)
      .resolvesOnce(basicComplete([basic('CVE-1', 'LOW', 'a', '1')], 'page-2'))
      .resolvesOnce(basicComplete([basic('CVE-2', 'LOW', 'b', '1')], 'page-3'))
      .resolvesOnce(basicComplete([basic('CVE-3', 'HIGH', 'c', '1')]));
    const scan = await gate.scan(image);
    expect(scan.status === 'complete' && scan.findings.map((f) => f.id)).toEqual(['CVE-1', 'CVE-2', 'CVE-3']);
    expect(ecrMock.commandCalls(DescribeImageScanFindingsCommand).map((c) => c.args[0].input.nextToken)).toEqual([undefined, 'page-2', 'page-3']);
  });

  it('a scan in progress, then complete: the gate waits on its clock and reads the findings', async () => {
    ecrMock
      .on(DescribeImageScanFindingsCommand)
      .resolvesOnce({ ...common, imageScanStatus: { status: 'IN_PROGRESS' } })
      .resolvesOnce({ ...common, imageScanStatus: { status: 'PENDING', description: 'Scan is pending.' } })
      .resolvesOnce(basicComplete([basic('CVE-2024-5535', 'CRITICAL', 'openssl', '3.0.2')]));
    let t = Date.parse('2026-11-30T10:00:00Z');
    const slept: number[] = [];
    const clock = { now: () => new Date(t), sleep: async (ms: number) => void (slept.push(ms), (t += ms)) };
    const scan = await awaitImageScan(gate, image, { waitSeconds: 300, clock });
    expect(scan.findings).toEqual([{ id: 'CVE-2024-5535', severity: 'CRITICAL', package: 'openssl', version: '3.0.2' }]);
    expect(slept).toEqual([10_000, 10_000]);
    expect(ecrMock.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(3);
  });

  it('a scan still in progress at scanWaitSeconds fails with ImageScanUnavailable, after asking within the bound only', async () => {
    ecrMock.on(DescribeImageScanFindingsCommand).resolves({ ...common, imageScanStatus: { status: 'IN_PROGRESS' } });
    let t = 0;
    const clock = { now: () => new Date(t), sleep: async (ms: number) => void (t += ms) };
    await expect(awaitImageScan(gate, image, { waitSeconds: 30, clock })).rejects.toMatchObject({ name: 'ImageScanUnavailable', message: expect.stringContaining('is still IN_PROGRESS after 30 s (supplyChain.scanWaitSeconds: 30)') });
    expect(t).toBe(30_000);
    expect(ecrMock.commandCalls(DescribeImageScanFindingsCommand)).toHaveLength(4);
  });

  it('no scan (ScanNotFoundException), a failed scan, an unsupported image: unavailable, saying which', async () => {
    ecrMock.on(DescribeImageScanFindingsCommand).rejects(new ScanNotFoundException({ message: `Image scan does not exist for the image with ''{imageDigest:'${DIGEST}', imageTag:'null'}'' in the repository with name 'shop' in the registry with id '111122223333'`, $metadata: { httpStatusCode: 400 } }));
    expect(await gate.scan(image)).toEqual({ status: 'unavailable', detail: expect.stringContaining('ECR has no scan of it (ScanNotFoundException)') });
    ecrMock.reset();
    ecrMock.on(DescribeImageScanFindingsCommand).resolves({ ...common, imageScanStatus: { status: 'FAILED', description: 'Scan failed: layer could not be read' } });
    expect(await gate.scan(image)).toEqual({ status: 'unavailable', detail: 'its scan status is FAILED: Scan failed: layer could not be read' });
    ecrMock.reset();
    ecrMock.on(DescribeImageScanFindingsCommand).resolves({ ...common, imageScanStatus: { status: 'UNSUPPORTED_IMAGE', description: 'The operating system and/or package manager are not supported.' } });
    expect(await gate.scan(image)).toEqual({ status: 'unavailable', detail: 'its scan status is UNSUPPORTED_IMAGE: The operating system and/or package manager are not supported.' });
  });

  it('throttling past the SDK retries becomes DependencyUnavailable, which the state machine retries', async () => {
    ecrMock.on(DescribeImageScanFindingsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    await expect(gate.scan(image)).rejects.toMatchObject({ name: 'DependencyUnavailable' });
  });

  it('DescribeImageScanFindings is all it calls, which is all the gate\'s row grants', async () => {
    ecrMock.on(DescribeImageScanFindingsCommand).resolves(basicComplete([]));
    await gate.scan(image);
    const sent = [...new Set(ecrMock.calls().map((c) => `ecr:${(c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, '')}`))];
    expect(sent).toEqual(IMAGE_SCAN_ACTIONS);
    expect(STEP_ACCESS['vulnerability-gate']).toEqual({ ledger: true, artifacts: ['builds/'], imageScans: true });
  });
});
