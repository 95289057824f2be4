import { renderNotifications, notificationsFor, type Notification } from '../../lambdas/lib/notifications.js';
import { resolvePath, TransformerOutputInvalid } from '../../lambdas/lib/notifications-transformer.js';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../runtime/aws-services.js';
import { LOCAL_BUS } from '../runtime/runtime.js';

/**
 * `--notify`: the lines the ReleaseNotifications topic would receive, printed as the events
 * reach the local bus. The same rules and input transformers as the stack's
 * (lambdas/lib/notifications.ts), evaluated as EventBridge evaluates them; wire it with
 * `runtime.onBusEvent(notifier((line) => process.stdout.write(`${line}\n`)))`.
 */

const localRule = (n: Notification) => ({ ruleName: n.name, ruleArn: `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${LOCAL_BUS}/${n.name}` });

/** The line with every value pasted as text: what a person needs even when EventBridge could not deliver it. */
function pasted(n: Notification, event: unknown): string {
  return n.line.replace(/<([A-Za-z0-9_-]+)>/g, (_, name: string) => {
    const v = n.paths[name] === undefined ? undefined : resolvePath(n.paths[name]!, event);
    return v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  });
}

export function notifier(write: (line: string) => void): (event: Record<string, unknown>) => void {
  return (event) => {
    try {
      for (const { line } of renderNotifications(event, localRule)) write(line);
    } catch (err) {
      if (!(err instanceof TransformerOutputInvalid)) throw err;
      // Print it anyway, and say that EventBridge, pasting these values, would not produce a valid message.
      for (const n of notificationsFor(event)) write(`${pasted(n, event)} [not deliverable by EventBridge: ${err.message}]`);
    }
  };
}
