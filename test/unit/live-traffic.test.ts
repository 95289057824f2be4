import 'aws-sdk-client-mock-vitest/extend';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchMetrics } from '../../lambdas/adapters/cloudwatch-metrics.js';
import type { LiveTrafficQuery } from '../../lambdas/lib/ports.js';
import type { LocalFleet, RequestSample } from '../../local/runtime/fleet.js';
import { FleetMetrics } from '../../local/runtime/fleet-metrics.js';

const cw = mockClient(CloudWatchClient);
beforeEach(() => cw.reset());

const MINUTE = 60_000;
/** Minute 0 is 2026-11-23T10:00:00Z. */
const minute = (m: number, second = 0) => Date.parse('2026-11-23T10:00:00Z') + m * MINUTE + second * 1000;

const query = (extra: Partial<LiveTrafficQuery> = {}): LiveTrafficQuery => ({
  service: 'checkout',
  environment: 'prod',
  target: { type: 'lambda-alias', functionName: '{service}-{environment}', alias: 'live', artifact: 'function.zip' },
  version: { version: 'v1.9.0', ref: '7' },
  since: new Date(minute(0)).toISOString(),
  until: new Date(minute(10)).toISOString(),
  ...extra,
});

/** A GetMetricData page as CloudWatch answers it: per query, its label, timestamps oldest first (ScanBy TimestampAscending) and values. */
function page(results: { id: string; label: string; at: number[]; values: number[] }[], nextToken?: string): GetMetricDataCommandOutput {
  return {
    $metadata: { httpStatusCode: 200, requestId: 'd3f1c2a4-58a1-4e0c-9a3e-0c1b2d3e4f50', attempts: 1, totalRetryDelay: 0 },
    MetricDataResults: results.map((r) => ({ Id: r.id, Label: r.label, Timestamps: r.at.map((t) => new Date(t)), Values: r.values, StatusCode: nextToken ? 'PartialData' : 'Complete' })),
    Messages: [],
    ...(nextToken ? { NextToken: nextToken } : {}),
  };
}

describe('live traffic from CloudWatch', () => {
  it('sums the live version\'s per-minute Invocations and Errors across pages, counting minutes from its first datapoint to until', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce(
        page(
          [
            // Minutes 2, 3 and 5 had requests (4 had none: no datapoint); errors only in minute 3.
            { id: 'requests', label: 'Invocations', at: [minute(2), minute(3)], values: [120, 80] },
            { id: 'errors', label: 'Errors', at: [minute(2), minute(3)], values: [0, 3] },
          ],
          'page-2',
        ),
      )
      .resolvesOnce(page([{ id: 'requests', label: 'Invocations', at: [minute(5)], values: [100] }, { id: 'errors', label: 'Errors', at: [minute(5)], values: [1] }]));

    const t = await new CloudWatchMetrics(new CloudWatchClient({})).liveTraffic!(query());

    // 300 requests from 10:02 to 10:10: 8 minutes, the quiet minute 4 among them.
    expect(t).toEqual({ requests: 300, errors: 4, minutes: 8 });
    const calls = cw.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.args[0].input.NextToken).toBe('page-2');
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ StartTime: new Date(minute(0)), EndTime: new Date(minute(10)), ScanBy: 'TimestampAscending' });
    expect(input.MetricDataQueries).toEqual([
      {
        Id: 'requests',
        MetricStat: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: 'checkout-prod' }, { Name: 'Resource', Value: 'checkout-prod:live' }, { Name: 'ExecutedVersion', Value: '7' }] },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: true,
      },
      {
        Id: 'errors',
        MetricStat: {
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: 'checkout-prod' }, { Name: 'Resource', Value: 'checkout-prod:live' }, { Name: 'ExecutedVersion', Value: '7' }] },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: true,
      },
    ]);
  });

  it('answers no minutes when the version has no datapoint in the window, and at least one for a version that just went live', async () => {
    cw.on(GetMetricDataCommand)
      .resolvesOnce(page([{ id: 'requests', label: 'Invocations', at: [], values: [] }, { id: 'errors', label: 'Errors', at: [], values: [] }]))
      .resolvesOnce(page([{ id: 'requests', label: 'Invocations', at: [minute(9)], values: [12] }, { id: 'errors', label: 'Errors', at: [minute(9)], values: [0] }]));
    const m = new CloudWatchMetrics(new CloudWatchClient({}));

    expect(await m.liveTraffic!(query())).toEqual({ requests: 0, errors: 0, minutes: 0 });
    expect(await m.liveTraffic!(query({ until: new Date(minute(9, 20)).toISOString() }))).toEqual({ requests: 12, errors: 0, minutes: 1 });
  });

  it('refuses a live version without its Lambda version number, before calling CloudWatch', async () => {
    const m = new CloudWatchMetrics(new CloudWatchClient({}));
    await expect(m.liveTraffic!(query({ version: { version: 'v1.9.0' } }))).rejects.toThrow(/v1\.9\.0 has no Lambda version recorded/);
    await expect(m.liveTraffic!(query({ target: { type: 'local' } }))).rejects.toThrow(/need a lambda-alias target/);
    expect(cw.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

const fleetOf = (samples: RequestSample[]) =>
  ({ samples: (_s: string, _e: string, since: number, until: number) => samples.filter((s) => s.at >= since && s.at <= until) }) as unknown as LocalFleet;

describe('live traffic from the local fleet', () => {
  const local = (extra: Partial<LiveTrafficQuery> = {}) => query({ target: { type: 'local' }, version: { version: 'v1' }, ...extra });

  it('counts the live version\'s requests and 5xx answers, from the minute of its first request to until', async () => {
    const samples: RequestSample[] = [
      // Before the window, and another version's: neither counts.
      { at: minute(-1, 30), version: 'v1', status: 500, latencyMs: 10 },
      { at: minute(1, 5), version: 'v2', status: 200, latencyMs: 10 },
      { at: minute(2, 40), version: 'v1', status: 200, latencyMs: 12 },
      { at: minute(2, 41), version: 'v1', status: 503, latencyMs: 30 },
      { at: minute(6, 0), version: 'v1', status: 404, latencyMs: 8 },
      { at: minute(7, 59), version: 'v1', status: 500, latencyMs: 9 },
    ];
    // The first request at 10:02:40 dates the version from the minute 10:02: 8 minutes to 10:10.
    expect(await new FleetMetrics(fleetOf(samples)).liveTraffic!(local())).toEqual({ requests: 4, errors: 2, minutes: 8 });
  });

  it('answers as CloudWatch does for the same requests', async () => {
    const perMinute = [
      [3, 40],
      [4, 0],
      [6, 25],
    ] as const;
    const samples: RequestSample[] = perMinute.flatMap(([m, n]) => Array.from({ length: n }, (_, i) => ({ at: minute(m, i), version: 'v1', status: i % 10 === 0 ? 500 : 200, latencyMs: 20 })));
    cw.on(GetMetricDataCommand).resolves(
      page([
        { id: 'requests', label: 'Invocations', at: [minute(3), minute(6)], values: [40, 25] },
        { id: 'errors', label: 'Errors', at: [minute(3), minute(6)], values: [4, 3] },
      ]),
    );
    const fromFleet = await new FleetMetrics(fleetOf(samples)).liveTraffic!(local());
    const fromCloudWatch = await new CloudWatchMetrics(new CloudWatchClient({})).liveTraffic!(query());
    expect(fromFleet).toEqual({ requests: 65, errors: 7, minutes: 7 });
    expect(fromCloudWatch).toEqual(fromFleet);
  });

  it('answers no minutes for a version that served nothing in the window', async () => {
    expect(await new FleetMetrics(fleetOf([{ at: minute(3), version: 'v0', status: 200, latencyMs: 5 }])).liveTraffic!(local())).toEqual({ requests: 0, errors: 0, minutes: 0 });
  });
});
