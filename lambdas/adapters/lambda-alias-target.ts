import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
  type AliasConfiguration,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { ArtifactIntegrityError, DeployFailed, TagflowError } from '../lib/errors.js';
import type { CanaryWeightRequest, DeployRequest, DeployResult, DeployTarget, ReuseRequest, StagedVersion } from '../lib/ports.js';
import { fillNames } from '../lib/targets.js';
import { codeAndConfiguration } from './lambda-config.js';
import { call } from './transient.js';

/**
 * Deploys to a Lambda function behind an alias: new code from the promoted S3 copy (or, for a
 * function packaged as an image, the build's image by digest), a
 * published (immutable) version described `tagflow <version>`, then the alias moved to it
 * with all canary weights cleared. The result's `ref` is the Lambda version number, which
 * a later rollback hands back so only the alias moves.
 */

const DESCRIPTION_PREFIX = 'tagflow ';
const errName = (err: unknown) => (err as { name?: string })?.name;
const errText = (err: unknown) => `${errName(err) ?? 'Error'}: ${(err as { message?: string })?.message ?? String(err)}`;
/** Lambda reports CodeSha256 as base64; manifests hold hex. */
const hexToBase64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
/** Clearing AdditionalVersionWeights ends any canary split: all traffic to FunctionVersion. */
const NO_SPLIT = { AdditionalVersionWeights: {} };
const split = (version: string, weightPercent: number) => ({ AdditionalVersionWeights: { [version]: weightPercent / 100 } });

/** What the update waiter saw once the function's code was in place. */
interface Updated {
  revisionId?: string;
  resolvedImageUri?: string;
}

function checkWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight < 0 || weight > 100) throw new DeployFailed(`canary weight must be 0–100 percent, got ${weight}`);
  return weight;
}

export class LambdaAliasTarget implements DeployTarget {
  private readonly waitMaxSeconds: number;

  constructor(
    private readonly lambda: LambdaClient,
    opts: { waitMaxSeconds?: number } = {},
  ) {
    this.waitMaxSeconds = opts.waitMaxSeconds ?? 300;
  }

  /**
   * Back to a version published here before: its code is already in Lambda (published
   * versions are immutable, and were checked against the manifest when published), so only
   * the alias moves (seconds). A ref that is not a version number (e.g. recorded by another
   * target type) is not enough.
   */
  async reuse(req: ReuseRequest): Promise<DeployResult | undefined> {
    if (!/^\d+$/.test(req.ref)) return undefined;
    const { fn, alias } = this.names(req);
    await call(`Lambda UpdateAlias ${fn}:${alias} → ${req.ref}`, () =>
      this.lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: req.ref, RoutingConfig: NO_SPLIT })),
    );
    return { ref: req.ref };
  }

  /**
   * Publishes the new version and leaves the alias where it is: the version takes no traffic
   * until `deploy`/`startCanary` get its number as `staged`. Checks invoke it by that number
   * (the qualified ARN `function:N`). Lambda's own refusals become DeployFailed, so they do
   * not read as the version failing to start.
   */
  async stage(req: DeployRequest): Promise<StagedVersion> {
    try {
      const { version } = await this.publish(req);
      return { ref: version, qualifier: version };
    } catch (err) {
      if (err instanceof TagflowError) throw err;
      throw new DeployFailed(`publishing ${req.version} to ${this.names(req).fn} without traffic failed: ${errText(err)}`);
    }
  }

  async deploy(req: DeployRequest): Promise<DeployResult> {
    const { fn, alias } = this.names(req);
    const { current, previousVersion, version } = await this.install(req);
    if (!current) {
      await call(`Lambda CreateAlias ${fn}:${alias}`, () => this.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: version })));
    } else {
      await this.moveAlias(fn, alias, { FunctionVersion: version, RoutingConfig: NO_SPLIT, RevisionId: current.RevisionId }, `version ${version} (${req.version}) is published but not live`);
    }
    return { ref: version, ...(previousVersion ? { previousVersion } : {}) };
  }

  /**
   * Publishes the new version and gives it `weightPercent` of the alias's traffic through
   * `RoutingConfig.AdditionalVersionWeights`; the alias's own version is the baseline. With no
   * alias yet there is no baseline: the alias is created on the new version (all traffic).
   */
  async startCanary(req: DeployRequest, weightPercent: number): Promise<DeployResult & { baselineRef?: string }> {
    const weight = checkWeight(weightPercent);
    const { fn, alias } = this.names(req);
    const { current, previousVersion, version } = await this.install(req);
    if (!current?.FunctionVersion) {
      await call(`Lambda CreateAlias ${fn}:${alias}`, () => this.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: version })));
      return { ref: version };
    }
    await this.moveAlias(
      fn,
      alias,
      { FunctionVersion: current.FunctionVersion, RoutingConfig: split(version, weight), RevisionId: current.RevisionId },
      `version ${version} (${req.version}) is published but gets no traffic`,
    );
    return { ref: version, baselineRef: current.FunctionVersion, ...(previousVersion ? { previousVersion } : {}) };
  }

  /** Moves the canary's share; at 100 the canary becomes the alias's version with no split. */
  async setCanaryWeight(req: CanaryWeightRequest, weightPercent: number): Promise<void> {
    const weight = checkWeight(weightPercent);
    const { fn, alias } = this.names(req);
    if (weight === 100) {
      await this.moveAlias(fn, alias, { FunctionVersion: req.canary.ref, RoutingConfig: NO_SPLIT }, `${req.canary.version} did not get all traffic`);
      return;
    }
    if (!req.baseline.ref) throw new DeployFailed(`cannot split ${fn}:${alias}: the baseline ${req.baseline.version} has no Lambda version recorded`);
    await this.moveAlias(fn, alias, { FunctionVersion: req.baseline.ref, RoutingConfig: split(req.canary.ref, weight) }, `the canary stays at its previous weight`);
  }

  private names(req: { service: string; environment: string; target: DeployRequest['target'] }): { fn: string; alias: string } {
    const target = req.target;
    if (target.type !== 'lambda-alias') throw new DeployFailed(`LambdaAliasTarget cannot deploy to a ${target.type} target`);
    return { fn: fillNames(target.functionName, req), alias: target.alias };
  }

  private async moveAlias(fn: string, alias: string, to: { FunctionVersion: string; RoutingConfig: { AdditionalVersionWeights: Record<string, number> }; RevisionId?: string | undefined }, consequence: string): Promise<void> {
    try {
      await call(`Lambda UpdateAlias ${fn}:${alias} → ${to.FunctionVersion}`, () =>
        this.lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: alias, FunctionVersion: to.FunctionVersion, RoutingConfig: to.RoutingConfig, ...(to.RevisionId ? { RevisionId: to.RevisionId } : {}) })),
      );
    } catch (err) {
      if (errName(err) !== 'PreconditionFailedException') throw err;
      throw new DeployFailed(`alias ${fn}:${alias} changed since tagflow read it; ${consequence}: ${errText(err)}`);
    }
  }

  /** The version to move traffic to: the staged one (already published and checked), or a new one published now. */
  private async install(req: DeployRequest): Promise<{ current?: AliasConfiguration; previousVersion?: string; version: string }> {
    if (req.staged === undefined) return this.publish(req);
    if (!/^\d+$/.test(req.staged)) throw new DeployFailed(`the staged handle of ${req.version} is ${JSON.stringify(req.staged)}, not a Lambda version number`);
    const { fn, alias } = this.names(req);
    const current = await this.readAlias(fn, alias);
    const previousVersion = current?.FunctionVersion ? await this.tagflowVersionOf(fn, current.FunctionVersion) : undefined;
    return { ...(current ? { current } : {}), ...(previousVersion ? { previousVersion } : {}), version: req.staged };
  }

  /** New code from the promoted copy, checked against the manifest, published as an immutable version. */
  private async publish(req: DeployRequest): Promise<{ current?: AliasConfiguration; previousVersion?: string; version: string }> {
    const target = req.target;
    const { fn, alias } = this.names(req);
    if (target.type !== 'lambda-alias') throw new DeployFailed(`LambdaAliasTarget cannot deploy to a ${target.type} target`);
    const current = await this.readAlias(fn, alias);
    const previousVersion = current?.FunctionVersion ? await this.tagflowVersionOf(fn, current.FunctionVersion) : undefined;

    // The code, then the variables (a config release's, lambda-config.ts), in $LATEST.
    const zip = target.imageRepository ? undefined : req.artifact.files.find((f) => f.path === target.artifact);
    const { updated, ready } = await codeAndConfiguration({
      lambda: this.lambda,
      fn,
      req,
      ...(zip ? { zipSha256: hexToBase64(zip.sha256) } : {}),
      updateCode: () => (target.imageRepository ? this.updateImage(req, fn, target.imageRepository) : this.updateZip(req, fn, target.artifact)),
      waitUpdated: () => this.waitUpdated(fn),
    });

    let published;
    try {
      // CodeSha256 (and the revision the waiter saw) make Lambda refuse to publish if anyone
      // changed the function between our update and this publish.
      published = await call(`Lambda PublishVersion ${fn}`, () =>
        this.lambda.send(
          new PublishVersionCommand({ FunctionName: fn, CodeSha256: updated.CodeSha256, Description: `${DESCRIPTION_PREFIX}${req.version}`, ...(ready.revisionId ? { RevisionId: ready.revisionId } : {}) }),
        ),
      );
    } catch (err) {
      if (errName(err) !== 'PreconditionFailedException') throw err;
      throw new DeployFailed(`${fn} changed while tagflow was deploying ${req.version} (another deploy or a manual change?); PublishVersion refused: ${errText(err)}`);
    }
    const version = published.Version;
    if (!version) throw new DeployFailed(`Lambda PublishVersion ${fn} returned no version number`);
    return { ...(current ? { current } : {}), ...(previousVersion ? { previousVersion } : {}), version };
  }

  private async readAlias(fn: string, alias: string): Promise<AliasConfiguration | undefined> {
    try {
      return await call(`Lambda GetAlias ${fn}:${alias}`, () => this.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: alias })));
    } catch (err) {
      if (errName(err) === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }

  /** What tagflow version a Lambda version holds, from the description tagflow gave it. */
  private async tagflowVersionOf(fn: string, lambdaVersion: string): Promise<string> {
    const conf = await call(`Lambda GetFunctionConfiguration ${fn}:${lambdaVersion}`, () =>
      this.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn, Qualifier: lambdaVersion })),
    );
    const d = conf.Description ?? '';
    // Not published by tagflow: report the Lambda version, which is still evidence.
    return d.startsWith(DESCRIPTION_PREFIX) ? d.slice(DESCRIPTION_PREFIX.length) : `lambda:${lambdaVersion}`;
  }

  /** New code from the promoted zip; Lambda's hash of what it took must be the manifest's. */
  private async updateZip(req: DeployRequest, fn: string, artifact: string): Promise<{ updated: FunctionConfiguration; ready: Updated }> {
    const file = req.artifact.files.find((f) => f.path === artifact);
    if (!file) {
      throw new DeployFailed(
        req.artifact.imageDigest
          ? `${req.version} is an image build (${req.artifact.imageDigest}) without ${artifact}; for a function packaged as an image, set "imageRepository" in the lambda-alias target config`
          : `${req.version} has no ${artifact} in its build (files: ${req.artifact.files.map((f) => f.path).join(', ') || 'none'}); set "artifact" in the target config`,
      );
    }
    const key = `${req.location.prefix}files/${artifact}`;
    const updated = await call(`Lambda UpdateFunctionCode ${fn} from s3://${req.location.bucket}/${key}`, () =>
      this.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, S3Bucket: req.location.bucket, S3Key: key })),
    );
    if (updated.CodeSha256 !== hexToBase64(file.sha256)) {
      throw new ArtifactIntegrityError(`${fn} took code with SHA-256 ${updated.CodeSha256} (base64), the manifest says ${hexToBase64(file.sha256)} for ${artifact}`);
    }
    return { updated, ready: await this.waitUpdated(fn) };
  }

  /**
   * The build's image, addressed by its digest (a tag could move under us); once updated,
   * the image Lambda resolved must be that digest.
   */
  private async updateImage(req: DeployRequest, fn: string, repository: string): Promise<{ updated: FunctionConfiguration; ready: Updated }> {
    const digest = req.artifact.imageDigest;
    if (!digest) {
      throw new DeployFailed(`${req.version} has no image digest in its build, and the lambda-alias target of ${fn} deploys images (imageRepository); release it from an ECR image push, or name "imageDigest" in the build manifest`);
    }
    const imageUri = `${fillNames(repository, req)}@${digest}`;
    const updated = await call(`Lambda UpdateFunctionCode ${fn} from ${imageUri}`, () => this.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ImageUri: imageUri })));
    const ready = await this.waitUpdated(fn);
    if (ready.resolvedImageUri !== undefined && !ready.resolvedImageUri.endsWith(`@${digest}`)) {
      throw new ArtifactIntegrityError(`${fn} resolved its image to ${ready.resolvedImageUri}, not the build's ${digest}`);
    }
    return { updated, ready };
  }

  /** Waits for LastUpdateStatus Successful; returns the function's RevisionId then (and the image it resolved, for an image). */
  private async waitUpdated(fn: string): Promise<Updated> {
    try {
      // A timeout (name TimeoutError) becomes DependencyUnavailable through call().
      const res = await call(`Lambda wait for ${fn} update`, () => waitUntilFunctionUpdatedV2({ client: this.lambda, maxWaitTime: this.waitMaxSeconds }, { FunctionName: fn }));
      const revisionId = res.reason?.Configuration?.RevisionId;
      const resolvedImageUri = res.reason?.Code?.ResolvedImageUri;
      return { ...(revisionId ? { revisionId } : {}), ...(resolvedImageUri ? { resolvedImageUri } : {}) };
    } catch (err) {
      if (errName(err) === 'DependencyUnavailable') throw err;
      // The waiter's error message is its result as JSON; the reason Lambda gives is inside.
      let reason = errText(err);
      try {
        const parsed = JSON.parse((err as Error).message) as { reason?: { Configuration?: { LastUpdateStatusReason?: string; LastUpdateStatusReasonCode?: string } } };
        const c = parsed.reason?.Configuration;
        if (c?.LastUpdateStatusReason) reason = `${c.LastUpdateStatusReasonCode ?? 'Failed'}: ${c.LastUpdateStatusReason}`;
      } catch {
        // not JSON: keep the message as it is
      }
      throw new DeployFailed(`updating the code of ${fn} failed: ${reason}`);
    }
  }
}
