import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { EventLog, ExecutionHandle, LocalRuntime } from '../runtime/runtime.js';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import { sign, type TagPushedEvent } from '../../lambdas/lib/github-webhook.js';
import type { DeliveryStore, Logger } from '../../lambdas/lib/ports.js';
import { CliInputError } from './cli-errors.js';
import { eventsFromFile, parseJsonText, type BusEvent } from './input-files.js';

/**
 * `tagflow local send-webhook --file body.json --secret S`: a GitHub webhook delivery, signed
 * as GitHub signs it (X-Hub-Signature-256 over the raw body), through the receiver function's
 * own handler (lambdas/github-webhook): the signature check, the filters, the once-per-delivery
 * claim in the ledger table, and its `Tag Pushed` entry put on the local bus, where the
 * stack's rules start the release as they do in AWS.
 */

export interface WebhookDeliveryDeps<Started> {
  config: PipelineConfig;
  /** The ledger table's deliveries, where the deployed receiver keeps them. */
  deliveries: DeliveryStore;
  /** The local bus: matches the event against the stack's rules and starts what matches. */
  sendEvent: (event: BusEvent) => { started: Started[]; unmatched?: string };
  now: () => Date;
  account: string;
  region: string;
  log?: Logger;
}

export interface WebhookOptions {
  /** X-GitHub-Event; default: read from the body's shape (push, create, ping). */
  event?: string | undefined;
  /** X-GitHub-Delivery; default: a new GUID, as GitHub gives each delivery (repeat one to see a replay refused). */
  deliveryId?: string | undefined;
  /** Sign with this secret instead (what a sender with a wrong secret sees: 401). */
  signWith?: string | undefined;
}

export interface WebhookDelivery<Started> {
  deliveryId: string;
  event: string;
  /** The receiver's answer, as GitHub would show it. */
  status: number;
  message: string;
  /** What the event started on the bus, when the receiver put one. */
  started: Started[];
  /** Why no rule matched the event the receiver put. */
  unmatched?: string;
}

/** The X-GitHub-Event a body was sent as, from its shape. */
export function githubEventOf(body: unknown): string {
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if ('zen' in b && 'hook_id' in b) return 'ping';
  if ('ref_type' in b) return 'create';
  if ('ref' in b && ('after' in b || 'before' in b)) return 'push';
  throw new CliInputError('cannot tell which GitHub event this body is (push, create or ping); pass --event NAME, e.g. --event push');
}

const silent: Logger = { info() {}, warn() {}, error() {} };

export async function sendWebhook<Started>(deps: WebhookDeliveryDeps<Started>, bodyText: string, secret: string, opts: WebhookOptions = {}): Promise<WebhookDelivery<Started>> {
  if (secret === '') throw new CliInputError('--secret is empty; pass the webhook secret the stack keeps in Secrets Manager (any string locally), e.g. --secret s3cret');
  // The body goes as it is in the file, byte for byte: the signature is over the raw bytes.
  const body = bodyText.replace(/^\uFEFF/, '');
  const event = opts.event ?? githubEventOf(parseJsonText(body, 'webhook body'));
  const deliveryId = opts.deliveryId ?? randomUUID();
  const started: Started[] = [];
  let unmatched: string | undefined;
  const publish = async (e: TagPushedEvent) => {
    // The entry the receiver puts, made an event as EventBridge makes it.
    const entry = { Source: e.Source, DetailType: e.DetailType, Detail: JSON.stringify(e.Detail) };
    const [busEvent] = eventsFromFile(entry, { now: deps.now(), account: deps.account, region: deps.region }).events;
    const result = deps.sendEvent(busEvent!);
    started.push(...result.started);
    unmatched = result.unmatched;
  };
  const { makeHandler } = await import('../../lambdas/github-webhook/handler.js');
  const handler = makeHandler(() => ({
    secret: async () => secret,
    config: async () => deps.config,
    publish,
    deliveries: deps.deliveries,
    log: deps.log ?? silent,
    nowMs: () => deps.now().getTime(),
  }));
  const request = {
    headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': deliveryId, 'x-hub-signature-256': sign(body, opts.signWith ?? secret) },
    body,
    isBase64Encoded: false,
  };
  const res = (await handler(request as never, {} as Context)) as { statusCode: number; body: string };
  const message = (JSON.parse(res.body) as { message: string }).message;
  return { deliveryId, event, status: res.statusCode, message, started, ...(unmatched ? { unmatched } : {}) };
}

/** The deps of a local runtime: its ledger table's deliveries, its bus, its clock. */
export async function localWebhookDeps(rt: LocalRuntime, onEvent?: (e: EventLog) => void): Promise<WebhookDeliveryDeps<{ rule: string; execution: ExecutionHandle }>> {
  const { DynamoDbDeliveryStore } = await import('../../lambdas/adapters/dynamodb-deliveries.js');
  const { LOCAL_TABLE } = await import('../runtime/runtime.js');
  const { LOCAL_ACCOUNT, LOCAL_REGION } = await import('../runtime/aws-services.js');
  return {
    config: rt.options.config,
    deliveries: new DynamoDbDeliveryStore(rt.aws.dynamodb, LOCAL_TABLE),
    sendEvent: (event) => rt.sendEvent(event, onEvent ? { onEvent } : {}),
    now: () => rt.clock.now(),
    account: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
  };
}
