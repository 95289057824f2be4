import type { PipelineConfig } from './config.js';
import type { ReleaseRequest } from './types.js';
import { releaseVersionOf, type BuildId } from './version.js';

/**
 * EventBridge events that start a release, turned into a release request. A trigger that
 * is well-formed but not for us (a branch push, a non-version tag) is ignored with a reason.
 */

export interface EventEnvelope {
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  id?: string;
}

export type TriggerResult = { request: ReleaseRequest } | { ignore: string };

export function isEventEnvelope(input: unknown): input is EventEnvelope {
  if (input === null || typeof input !== 'object') return false;
  const e = input as Record<string, unknown>;
  return typeof e.source === 'string' && typeof e['detail-type'] === 'string' && typeof e.detail === 'object' && e.detail !== null;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** The service a repository belongs to, per the config's trigger mapping. */
export function serviceForRepository(config: PipelineConfig, kind: 'github' | 'codecommit' | 'ecr', repository: string): string | undefined {
  for (const [name, svc] of Object.entries(config.services)) {
    if (svc.triggers[kind] === repository) return name;
  }
  return undefined;
}

function tagVersion(ref: string): BuildId | undefined {
  return releaseVersionOf(ref.startsWith('refs/tags/') ? ref.slice('refs/tags/'.length) : ref);
}

/** Where a release came from, with the build it named when the tag was a build's id. */
const origin = (source: string, tag: string, id: BuildId) => (id.version === tag ? source : `${source} (${tag})`);

/** `{source:"tagflow", detail-type:"Tag Pushed", detail:{repository|service, tag, commit}}`. */
function fromTagPushed(e: EventEnvelope, config: PipelineConfig): TriggerResult {
  const d = e.detail;
  const tag = str(d.tag) ?? str(d.ref);
  if (!tag) return { ignore: 'Tag Pushed event has no detail.tag' };
  const id = tagVersion(tag);
  if (!id) return { ignore: `tag ${JSON.stringify(tag.slice(0, 80))} is not a version tag (expected vMAJOR.MINOR.PATCH)` };
  const repository = str(d.repository);
  const service = str(d.service) ?? (repository ? serviceForRepository(config, 'github', repository) ?? serviceForRepository(config, 'codecommit', repository) : undefined);
  if (!service) return { ignore: `no service in the pipeline config is fed by repository ${JSON.stringify(repository ?? '(none)')}` };
  const commit = str(d.commit);
  // The webhook receiver passes on GitHub's `sender` (verified by the delivery's HMAC).
  const sender = str(d.sender);
  return {
    request: {
      service,
      version: id.version,
      ...(commit ? { commit } : {}),
      ...(id.commitPrefix ? { commitPrefix: id.commitPrefix } : {}),
      trigger: { kind: 'tag-push', detail: origin(repository ?? service, tag, id) },
      ...(sender ? { initiator: { github: sender } } : {}),
    },
  };
}

/** CodeCommit `referenceCreated` for a tag: a native EventBridge event. */
function fromCodeCommit(e: EventEnvelope, config: PipelineConfig): TriggerResult {
  const d = e.detail;
  if (d.event !== 'referenceCreated' || d.referenceType !== 'tag') return { ignore: `CodeCommit ${String(d.event)} of a ${String(d.referenceType)} is not a tag push` };
  const repository = str(d.repositoryName);
  const tag = str(d.referenceName);
  if (!repository || !tag) return { ignore: 'CodeCommit event lacks detail.repositoryName or detail.referenceName' };
  const id = tagVersion(tag);
  if (!id) return { ignore: `tag ${JSON.stringify(tag.slice(0, 80))} is not a version tag (expected vMAJOR.MINOR.PATCH)` };
  const service = serviceForRepository(config, 'codecommit', repository);
  if (!service) return { ignore: `no service in the pipeline config is fed by CodeCommit repository ${JSON.stringify(repository)}` };
  const commit = str(d.commitId);
  // An AWS-sourced event: CodeCommit names the principal that created the tag.
  const caller = str(d.callerUserArn);
  return {
    request: {
      service,
      version: id.version,
      ...(commit ? { commit } : {}),
      ...(id.commitPrefix ? { commitPrefix: id.commitPrefix } : {}),
      trigger: { kind: 'codecommit-tag', detail: origin(repository, tag, id) },
      ...(caller ? { initiator: { arn: caller } } : {}),
    },
  };
}

/** ECR `ECR Image Action` PUSH SUCCESS with a version tag: the same release, carrying the image digest. */
function fromEcr(e: EventEnvelope, config: PipelineConfig): TriggerResult {
  const d = e.detail;
  if (d['action-type'] !== 'PUSH' || d.result !== 'SUCCESS') return { ignore: `ECR ${String(d['action-type'])} with result ${String(d.result)} is not a successful image push` };
  const repository = str(d['repository-name']);
  const tag = str(d['image-tag']);
  if (!repository || !tag) return { ignore: 'ECR event lacks detail.repository-name or detail.image-tag' };
  const id = tagVersion(tag);
  if (!id) return { ignore: `image tag ${JSON.stringify(tag.slice(0, 80))} is not a version (expected vMAJOR.MINOR.PATCH, or a build of one: v1.2.3-build.456-abc1234)` };
  const service = serviceForRepository(config, 'ecr', repository);
  if (!service) return { ignore: `no service in the pipeline config is fed by ECR repository ${JSON.stringify(repository)}` };
  const digest = str(d['image-digest']);
  if (digest && !/^sha256:[0-9a-f]{64}$/.test(digest)) return { ignore: `image digest ${JSON.stringify(digest.slice(0, 80))} is not sha256:<64 hex>` };
  return {
    request: { service, version: id.version, ...(digest ? { imageDigest: digest } : {}), ...(id.commitPrefix ? { commitPrefix: id.commitPrefix } : {}), trigger: { kind: 'image-push', detail: origin(repository, tag, id) } },
  };
}

const handlers: Record<string, (e: EventEnvelope, config: PipelineConfig) => TriggerResult> = {
  'tagflow/Tag Pushed': fromTagPushed,
  'aws.codecommit/CodeCommit Repository State Change': fromCodeCommit,
  'aws.ecr/ECR Image Action': fromEcr,
};

export function fromEvent(e: EventEnvelope, config: PipelineConfig): TriggerResult {
  const handler = handlers[`${e.source}/${e['detail-type']}`];
  if (!handler) return { ignore: `no trigger handles events of source ${e.source} and detail-type ${e['detail-type']}` };
  return handler(e, config);
}
