import { createHmac, timingSafeEqual } from 'node:crypto';
import type { PipelineConfig } from './config.js';
import type { DeliveryStore, Logger } from './ports.js';
import { serviceForRepository } from './triggers.js';
import { releaseVersionOf } from './version.js';

/**
 * The GitHub webhook receiver's core: verify `X-Hub-Signature-256`, keep only version-tag
 * pushes of configured repositories, turn each into a tagflow `Tag Pushed` event, and put it
 * once per delivery (`X-GitHub-Delivery`), however often GitHub (or anyone) replays it.
 */

/** What the receiver puts on the bus: its IAM grant allows this source and detail-type only. */
export const TAG_PUSHED = { Source: 'tagflow', DetailType: 'Tag Pushed' } as const;

export interface WebhookRequest {
  headers: Record<string, string | undefined>;
  body: string;
  isBase64Encoded?: boolean;
}

export interface TagPushedEvent {
  Source: typeof TAG_PUSHED.Source;
  DetailType: typeof TAG_PUSHED.DetailType;
  Detail: { repository: string; service: string; tag: string; commit?: string; sender?: string; deliveryId?: string };
}

export interface WebhookResult {
  status: number;
  message: string;
  event?: TagPushedEvent;
}

export const MAX_BODY_BYTES = 1024 * 1024;

const header = (h: Record<string, string | undefined>, name: string) => {
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === name) return v;
  return undefined;
};

/** Constant-time check of GitHub's `sha256=<hex>` HMAC of the raw body. */
export function signatureValid(rawBody: Buffer, signature: string | undefined, secret: string): boolean {
  if (!signature || !/^sha256=[0-9a-f]{64}$/.test(signature) || secret.length === 0) return false;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  const given = Buffer.from(signature.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function sign(rawBody: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

const str = (v: unknown) => (typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined);

export function receiveWebhook(req: WebhookRequest, secret: string, config: PipelineConfig): WebhookResult {
  const raw = req.isBase64Encoded ? Buffer.from(req.body ?? '', 'base64') : Buffer.from(req.body ?? '', 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) return { status: 413, message: 'payload too large' };
  if (!signatureValid(raw, header(req.headers, 'x-hub-signature-256'), secret)) return { status: 401, message: 'invalid or missing X-Hub-Signature-256' };

  const kind = header(req.headers, 'x-github-event');
  if (kind === 'ping') return { status: 200, message: 'pong' };
  if (kind !== 'push' && kind !== 'create') return { status: 202, message: `ignored: ${String(kind ?? 'no').slice(0, 40)} events do not start releases` };

  let payload: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { status: 400, message: 'payload is not a JSON object' };
    payload = parsed as Record<string, unknown>;
  } catch {
    return { status: 400, message: 'payload is not valid JSON' };
  }

  const repository = str((payload.repository as { full_name?: unknown } | undefined)?.full_name);
  if (!repository) return { status: 400, message: 'payload has no repository.full_name' };

  let tag: string | undefined;
  let commit: string | undefined;
  if (kind === 'push') {
    const ref = str(payload.ref);
    if (!ref?.startsWith('refs/tags/')) return { status: 202, message: `ignored: ${ref ? 'a branch push' : 'a push without ref'}` };
    if (payload.deleted === true) return { status: 202, message: 'ignored: a tag deletion' };
    tag = ref.slice('refs/tags/'.length);
    const after = str(payload.after);
    if (after && /^[0-9a-f]{40}$/.test(after)) commit = after;
  } else {
    if (payload.ref_type !== 'tag') return { status: 202, message: 'ignored: a branch was created' };
    tag = str(payload.ref);
  }
  const id = tag ? releaseVersionOf(tag) : undefined;
  if (!tag || !id) return { status: 202, message: `ignored: tag ${JSON.stringify((tag ?? '').slice(0, 80))} is not a version tag (vMAJOR.MINOR.PATCH)` };
  const service = serviceForRepository(config, 'github', repository);
  if (!service) return { status: 202, message: `ignored: no service in the pipeline config is fed by ${repository}` };

  const sender = str((payload.sender as { login?: unknown } | undefined)?.login);
  const deliveryId = str(header(req.headers, 'x-github-delivery'));
  return {
    status: 202,
    message: `release of ${service} ${id.version} requested`,
    event: { ...TAG_PUSHED, Detail: { repository, service, tag, ...(commit ? { commit } : {}), ...(sender ? { sender } : {}), ...(deliveryId ? { deliveryId } : {}) } },
  };
}

/**
 * How long one attempt's claim on a delivery holds before a redelivery may take it over: longer
 * than the function's timeout (10 s), so a holder that died mid-put has surely stopped.
 */
export const DELIVERY_LEASE_MS = 60_000;
/** GitHub's delivery ids are GUIDs; anything else is refused before it becomes a key. */
const DELIVERY_ID = /^[0-9A-Za-z-]{1,64}$/;

export interface DeliveryDeps {
  deliveries: DeliveryStore;
  publish: (event: TagPushedEvent) => Promise<void>;
  nowMs: () => number;
  /** A fresh id for this attempt (one request), which holds the claim. */
  attemptId: () => string;
  log: Logger;
}

/**
 * Puts a verified delivery's event at most once per `X-GitHub-Delivery`. Only a result with an
 * event gets past the first line, so only a delivery whose signature held and that asks for a
 * release writes anything (an unsigned flood writes nothing). The delivery is claimed
 * (conditional write), the event put, and only then is the delivery marked done: a put that
 * fails releases the claim and throws, so GitHub shows the delivery as failed and its
 * redelivery (same id) goes through instead of being taken for a duplicate.
 */
export async function publishOnce(result: WebhookResult, deps: DeliveryDeps): Promise<WebhookResult> {
  const event = result.event;
  if (!event) return result;
  const { deliveryId, repository, service, tag } = event.Detail;
  if (!deliveryId || !DELIVERY_ID.test(deliveryId)) return { status: 400, message: 'missing or malformed X-GitHub-Delivery (every GitHub delivery carries a GUID)' };
  const source = 'github';
  const attempt = deps.attemptId();
  const claim = await deps.deliveries.claim({ source, deliveryId, attempt, nowMs: deps.nowMs(), leaseMs: DELIVERY_LEASE_MS, summary: { repository, service, tag } });
  if (!claim.claimed) {
    if (claim.status === 'done') return { status: 202, message: `duplicate: delivery ${deliveryId} was accepted before; nothing put` };
    return { status: 409, message: `delivery ${deliveryId} is being handled by another request; if no release starts, redeliver it after ${new Date(claim.leaseUntil).toISOString()}` };
  }
  try {
    await deps.publish(event);
  } catch (err) {
    try {
      await deps.deliveries.release({ source, deliveryId, attempt });
    } catch (releaseErr) {
      // The claim's lease still ends it: a redelivery after DELIVERY_LEASE_MS goes through.
      deps.log.warn('could not release the claim on a delivery whose event was not put', { deliveryId, error: String(releaseErr) });
    }
    throw err;
  }
  try {
    await deps.deliveries.complete({ source, deliveryId, attempt, at: new Date(deps.nowMs()).toISOString() });
  } catch (err) {
    // The event is on the bus; answer so. A redelivery after the lease would put it again, and
    // the release claim (one per service and version) makes that second event a no-op.
    deps.log.warn('event put, but the delivery could not be marked done', { deliveryId, error: String(err) });
  }
  return result;
}
