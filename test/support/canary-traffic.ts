import { expect } from 'vitest';
import type { ExecutionSummary } from '../../local/runtime/runtime.js';
import type { Harness, Users } from './harness.js';

/**
 * A release of `version` while users send `perMinute` order reads before each look of its
 * canary judge; asserts that every look judged exactly what they sent (the counts are since
 * the step began: a step's n-th look has n minutes of requests, the two arms together).
 */
export async function releaseUnderTraffic(h: Harness, service: string, version: string, perMinute: number) {
  const users = h.users(service, 'prod', { perMinute, paths: ['/api/orders'] });
  let s: ExecutionSummary;
  let sent: ReturnType<Users['stop']>;
  try {
    s = await h.rt.startExecution('release', { service, version }).done;
  } finally {
    sent = users.stop();
  }
  const judged = (await h.rt.deps.ledger.decisions(service, version)).filter((d) => d.step === 'judge');
  expect(judged.length).toBeGreaterThan(0);
  expect(sent).toMatchObject({ minutes: judged.length, requests: judged.length * perMinute });
  const looks = judged.map((d) => {
    const e = d.evidence as { poll: number; counts: { canary: { requests: number }; baseline: { requests: number } } };
    return { poll: e.poll, judged: e.counts.canary.requests + e.counts.baseline.requests };
  });
  expect(looks).toEqual(looks.map((l) => ({ poll: l.poll, judged: l.poll * perMinute })));
  return { s, judged };
}
