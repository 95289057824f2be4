import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifier } from '../../local/cli/notify.js';
import type { ExecutionHandle } from '../../local/runtime/runtime.js';
import { BAD_DIR, demoConfig, startHarness, type Harness } from '../support/harness.js';

/**
 * `--notify` on real releases: the real release.asl.json puts its events on the local bus, and
 * the notifier prints what the stack's rules would publish to ReleaseNotifications.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: demoConfig({ services: ['told', 'told-bad', 'told-stopped'] }) });
});
afterAll(async () => h?.close());

/** The lines printed while one release runs. */
async function linesOf(service: string, version: string): Promise<{ lines: string[]; executionArn: string }> {
  const lines: string[] = [];
  const off = h.rt.onBusEvent(notifier((line) => lines.push(line)));
  try {
    const s = await h.rt.startExecution('release', { service, version }).done;
    return { lines, executionArn: s.executionArn };
  } finally {
    off();
  }
}

describe('--notify', () => {
  it('prints a line per lifecycle event of a succeeded release', async () => {
    await h.publish('v1.0.0', { service: 'told' });
    const { lines, executionArn } = await linesOf('told', 'v1.0.0');
    expect(lines).toEqual([
      `told v1.0.0: release started (trigger: manual), execution ${executionArn}`,
      'told v1.0.0 promoted to dev: smoke tests passed',
      'told v1.0.0 promoted to staging: smoke tests passed',
      'told v1.0.0 promoted to prod: smoke tests passed',
      'told v1.0.0 released: v1.0.0 is live in dev, staging, prod (no changes listed)',
    ]);
  });

  it('prints why a release was rolled back', async () => {
    await h.publish('v1.0.0', { service: 'told-bad' });
    await linesOf('told-bad', 'v1.0.0');
    await h.publish('v2.0.0', { service: 'told-bad', dir: BAD_DIR });
    const { lines, executionArn } = await linesOf('told-bad', 'v2.0.0');
    expect(lines.slice(0, 2)).toEqual([
      `told-bad v2.0.0: release started (trigger: manual), execution ${executionArn}`,
      'told-bad v2.0.0 promoted to dev: smoke tests passed',
    ]);
    expect(lines[2]).toMatch(
      /^told-bad v2\.0\.0 rolled back: SmokeTestFailed in staging: smoke tests failed in staging on v2\.0\.0: orders: GET http:\/\/127\.0\.0\.1:\d+\/api\/orders answered 500, expected 200 \(after 3 attempts\); rolled staging back from v2\.0\.0 to v1\.0\.0$/,
    );
    expect(lines).toHaveLength(3);
  });

  it('prints that a stopped release was aborted, and why', async () => {
    await h.publish('v1.0.0', { service: 'told-stopped' });
    const lines: string[] = [];
    const print = notifier((line) => lines.push(line));
    let handle: ExecutionHandle | undefined;
    // Stopped as soon as it says it started: the reconciler then puts Release Aborted on the bus.
    const off = h.rt.onBusEvent((event) => {
      print(event);
      if (event['detail-type'] === 'Release Started') handle?.abort({ error: 'StoppedByHand', cause: 'console' });
    });
    try {
      handle = h.rt.startExecution('release', { service: 'told-stopped', version: 'v1.0.0' });
      expect((await handle.done).status).toBe('ABORTED');
    } finally {
      off();
    }
    expect(lines).toEqual([`told-stopped v1.0.0: release started (trigger: manual), execution ${handle.executionArn}`, 'told-stopped v1.0.0 aborted: the execution stopped (ABORTED): StoppedByHand: console; nothing was deployed']);
  });

  it('prints a line EventBridge could not deliver with why, instead of dropping it', () => {
    const lines: string[] = [];
    const detail = { service: 's', version: 'v1', executionId: 'arn:x', reason: 'smoke check "orders" failed' };
    notifier((line) => lines.push(line))({ version: '0', id: 'i', source: 'tagflow', 'detail-type': 'Release Rolled Back', account: '1', region: 'r', time: 't', resources: [], detail });
    expect(lines).toEqual(['s v1 rolled back: smoke check "orders" failed [not deliverable by EventBridge: the transformed input is not valid JSON: the value of <reason> holds a quote, backslash or line break (or is an object or array), which EventBridge pastes unescaped]']);
  });

  it('stops printing once unsubscribed', async () => {
    const lines: string[] = [];
    const off = h.rt.onBusEvent(notifier((line) => lines.push(line)));
    off();
    await h.rt.putEvents([{ Source: 'tagflow', DetailType: 'Release Succeeded', Detail: { service: 's', version: 'v', reason: 'r' } }]);
    expect(lines).toEqual([]);
  });
});
