import { matchesPattern, type EventPattern } from './event-pattern.js';
import { evaluate, TransformerOutputInvalid, type InputTransformer } from './notifications-transformer.js';

/**
 * One line for people per release lifecycle event, defined once as data: the stack deploys
 * each as an EventBridge rule on the pipeline bus whose input transformer publishes the line
 * to the ReleaseNotifications topic (infra/notifications.ts), and `--notify` evaluates the
 * same patterns and transformers on the local bus (local/cli/notify.ts).
 *
 * The topic receives an AWS Chatbot custom notification ({"version":"1.0","source":"custom",
 * "content":{title, description}}), because Chatbot posts nothing for a plain-text SNS
 * message; `content.description` is the one-line message, what `--notify` prints.
 *
 * Only fields whose text cannot hold a quote are pasted (EventBridge does not escape them):
 * names, versions, ARNs, error names, numbers, and the reasons tagflow words itself. The
 * `Cause` of a failure (the Lambda runtime's JSON) and arrays (environments, approvers) are
 * never pasted.
 */

export interface Notification {
  /** The rule's name part, e.g. `notify-release-started`. */
  name: string;
  /** The lifecycle event it tells of, in words. */
  event: string;
  pattern: EventPattern;
  /** Chatbot's title for the message. */
  title: string;
  /** The one-line message, with `<var>` placeholders of `paths`. */
  line: string;
  paths: Record<string, string>;
}

const tagflow = (detailType: string, detail?: EventPattern): EventPattern => ({ source: ['tagflow'], 'detail-type': [detailType], ...(detail ? { detail } : {}) });
const detailPaths = (...fields: string[]) => Object.fromEntries(fields.map((f) => [f, `$.detail.${f}`]));

export const NOTIFICATIONS: readonly Notification[] = [
  {
    name: 'notify-release-started',
    event: 'release started',
    pattern: tagflow('Release Started'),
    title: 'Release started',
    line: '<service> <version>: release started (trigger: <trigger>), execution <executionId>',
    paths: detailPaths('service', 'version', 'trigger', 'executionId'),
  },
  {
    name: 'notify-stage-promoted',
    event: 'stage promoted',
    pattern: tagflow('Stage Promoted'),
    title: 'Stage promoted',
    line: '<service> <version> promoted to <environment>: <reason>',
    paths: detailPaths('service', 'version', 'environment', 'reason'),
  },
  {
    name: 'notify-canary-step-passed',
    event: 'canary step passed',
    pattern: tagflow('Canary Step Passed'),
    title: 'Canary step passed',
    line: '<service> <version>: canary step in <environment> passed at <weight>%',
    paths: detailPaths('service', 'version', 'environment', 'weight'),
  },
  {
    name: 'notify-emergency-approval',
    event: 'approval requested (emergency)',
    pattern: tagflow('Approval Requested', { kind: ['emergency'] }),
    title: 'Approval requested',
    line: '<service> <version>: emergency release into <environment> waits for <needed> approvers until <expiresAt> (<reason>). To approve: <howToApprove>',
    paths: detailPaths('service', 'version', 'environment', 'needed', 'expiresAt', 'reason', 'howToApprove'),
  },
  {
    name: 'notify-canary-hold',
    event: 'approval requested (canary hold)',
    pattern: tagflow('Approval Requested', { kind: ['canary-hold'] }),
    title: 'Canary held for a decision',
    line: '<service> <version>: canary held at <weight>% of <environment> until <expiresAt>, no decision rolls it back (<reason>). To decide: <howToApprove>',
    paths: detailPaths('service', 'version', 'environment', 'weight', 'expiresAt', 'reason', 'howToApprove'),
  },
  {
    // Any other kind (a promotion gate…): the same request, worded generically.
    name: 'notify-approval-requested',
    event: 'approval requested (other kinds)',
    pattern: tagflow('Approval Requested', { kind: [{ 'anything-but': ['emergency', 'canary-hold'] }] }),
    title: 'Approval requested',
    line: '<service> <version>: <kind> approval for <environment> waits for <needed> approver(s) until <expiresAt> (<reason>). To approve: <howToApprove>',
    paths: detailPaths('service', 'version', 'kind', 'environment', 'needed', 'expiresAt', 'reason', 'howToApprove'),
  },
  {
    name: 'notify-release-succeeded',
    event: 'release succeeded',
    pattern: tagflow('Release Succeeded'),
    title: 'Release succeeded',
    // The notes as counts only ("3 changes: 1 feat, 2 fix", release-notes.ts notesSummary): commit subjects may hold quotes; the report lists them.
    line: '<service> <version> released: <reason> (<notes>)',
    paths: { ...detailPaths('service', 'version', 'reason'), notes: '$.detail.notes.summary' },
  },
  {
    name: 'notify-release-failed',
    event: 'release failed',
    // The detail's reason is the failure's Cause (the Lambda runtime's JSON, quotes and all): the error name and the execution say where to look.
    pattern: tagflow('Release Failed'),
    title: 'Release failed',
    line: '<service> <version> failed: <error>; see execution <executionId>',
    paths: detailPaths('service', 'version', 'error', 'executionId'),
  },
  {
    name: 'notify-release-rolled-back',
    event: 'release rolled back (by the release)',
    pattern: tagflow('Release Rolled Back', { restoredVersion: [{ exists: false }] }),
    title: 'Release rolled back',
    // The reason names the error and the environment: "SmokeTestFailed in staging: …; rolled staging back from v2 to v1".
    line: '<service> <version> rolled back: <reason>',
    paths: detailPaths('service', 'version', 'reason'),
  },
  {
    name: 'notify-environment-rolled-back',
    event: 'environment rolled back (by the rollback machine)',
    pattern: tagflow('Release Rolled Back', { restoredVersion: [{ exists: true }] }),
    title: 'Environment rolled back',
    line: '<service> <environment> rolled back from <version> to <restoredVersion> (trigger: <trigger>): <reason>',
    paths: detailPaths('service', 'environment', 'version', 'restoredVersion', 'trigger', 'reason'),
  },
  {
    name: 'notify-rollback-failed',
    event: 'rollback failed',
    pattern: tagflow('Release Rollback Failed'),
    title: 'ROLLBACK FAILED',
    line: '<service> <version>: rolling <environment> back FAILED (<error>): <reason>. Check what <environment> serves now',
    paths: detailPaths('service', 'version', 'environment', 'error', 'reason'),
  },
  {
    name: 'notify-release-aborted',
    event: 'release aborted',
    pattern: tagflow('Release Aborted'),
    title: 'Release aborted',
    // The reason says how it ended: "the execution stopped (ABORTED): …; nothing was deployed".
    line: '<service> <version> aborted: <reason>',
    paths: detailPaths('service', 'version', 'reason'),
  },
];

/** The rule target's input transformer: a Chatbot custom notification whose description is the line. */
export function transformerOf(n: Notification): InputTransformer {
  // JSON.stringify escapes the static text; `<` and `>` pass through, so the placeholders stay.
  return { InputPathsMap: n.paths, InputTemplate: JSON.stringify({ version: '1.0', source: 'custom', content: { title: `tagflow: ${n.title}`, description: n.line } }) };
}

/** The notifications whose pattern matches the event (one per lifecycle event). */
export function notificationsFor(event: unknown): Notification[] {
  return NOTIFICATIONS.filter((n) => matchesPattern(n.pattern, event));
}

export interface RenderedNotification {
  notification: Notification;
  /** What the topic receives. */
  message: string;
  /** The one-line message (the custom notification's description). */
  line: string;
}

/**
 * What each matching rule publishes for the event, evaluated as EventBridge would. Throws
 * TransformerOutputInvalid when a pasted value would break the message in AWS.
 */
export function renderNotifications(event: Record<string, unknown>, rule: (n: Notification) => { ruleName: string; ruleArn: string }): RenderedNotification[] {
  return notificationsFor(event).map((notification) => {
    const { output, value } = evaluate(transformerOf(notification), event, rule(notification));
    const line = (value as { content?: { description?: unknown } }).content?.description;
    if (typeof line !== 'string') throw new TransformerOutputInvalid(`rule ${notification.name}: the output has no content.description`, output);
    return { notification, message: output, line };
  });
}
