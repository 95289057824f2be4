import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, type HistoryEvent, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOCAL_TABLE } from '../../local/runtime/runtime.js';
import type { AwsClients } from '../../local/cli/aws/stack-backend.js';
import { main } from '../../local/cli/main.js';
import { StsCallerIdentity } from '../../lambdas/adapters/sts-caller-identity.js';
import { handleApprovalUrlRequest } from '../../lambdas/lib/approval-url.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { systemClock } from '../../lambdas/lib/ports.js';
import { FakeSts } from '../support/fake-sts.js';
import { silentLogger } from '../../lambdas/adapters/json-logger.js';
import { statusTable } from '../../local/cli/status.js';
import { demoConfig, GOOD_DIR, startHarness, type Harness } from '../support/harness.js';

/**
 * Issue 14: the CLI against a deployed stack (`--stack`). The ledger is a real DynamoDB API
 * (the dynalite table a release through the real ASL wrote, as the deployed functions write
 * theirs); CloudFormation, Step Functions, EventBridge and STS answer through
 * aws-sdk-client-mock with the shapes the services return.
 */

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const STACK = 'tagflow-prod';
const RELEASE_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:ReleaseStateMachine1A2B3C4D-Xy9`;
const ROLLBACK_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:RollbackStateMachine5E6F7A8B-Zq1`;
const strip = (s: string) => s.replace(/\u001b\[\d+m/g, '');

const cfn = mockClient(CloudFormationClient);
const sfn = mockClient(SFNClient);
const events = mockClient(EventBridgeClient);

function stackOutputs(extra: { OutputKey: string; OutputValue: string }[] = []) {
  return {
    Stacks: [
      {
        StackName: STACK,
        StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/6a1f0e10-8e2b-11f1-9c3e-0a5f1b2c3d4e`,
        StackStatus: 'UPDATE_COMPLETE' as const,
        CreationTime: new Date('2026-11-02T10:00:00Z'),
        Outputs: [
          { OutputKey: 'LedgerTableName', OutputValue: LOCAL_TABLE },
          { OutputKey: 'ReleaseStateMachineArn', OutputValue: RELEASE_ARN },
          { OutputKey: 'RollbackStateMachineArn', OutputValue: ROLLBACK_ARN },
          { OutputKey: 'EventBusName', OutputValue: STACK },
          { OutputKey: 'ArtifactsBucketName', OutputValue: 'tagflow-prod-artifactsbucket2aac5544-1x2y3z4w5v6u' },
          ...extra,
        ],
      },
    ],
  };
}

/** A history event as GetExecutionHistory returns it (includeExecutionData: true). */
function history(): HistoryEvent[] {
  const t0 = Date.parse('2026-11-30T12:00:00.000Z');
  const out: HistoryEvent[] = [];
  const add = (type: string, details: Partial<HistoryEvent> = {}, ms = 40) => {
    const id = out.length + 1;
    out.push({ id, previousEventId: id - 1, timestamp: new Date(t0 + id * ms), type: type as HistoryEvent['type'], ...details });
  };
  const task = (name: string, output: unknown, opts: { failFirst?: { error: string; cause: string } } = {}) => {
    add('TaskStateEntered', { stateEnteredEventDetails: { name, input: '{}', inputDetails: { truncated: false } } });
    add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:tagflow-${name}`, input: '{}' } });
    add('LambdaFunctionStarted');
    if (opts.failFirst) {
      add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: opts.failFirst });
      add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:tagflow-${name}`, input: '{}' } });
      add('LambdaFunctionStarted');
    }
    add('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: JSON.stringify(output) } });
    add('TaskStateExited', { stateExitedEventDetails: { name, output: JSON.stringify(output), outputDetails: { truncated: false } } });
  };
  add('ExecutionStarted', { executionStartedEventDetails: { input: '{"service":"demo","version":"v2.0.0"}', roleArn: `arn:aws:iam::${ACCOUNT}:role/ReleaseRole` } });
  task('Normalise input', {});
  task('Claim release', {});
  task('Tests gate', {}, { failFirst: { error: 'TestsPending', cause: JSON.stringify({ errorType: 'TestsPending', errorMessage: 'no CI results yet for commit 4f2a…' }) } });
  add('PassStateEntered', { stateEnteredEventDetails: { name: 'Enter environment', input: '{}' } });
  add('PassStateExited', { stateExitedEventDetails: { name: 'Enter environment', output: JSON.stringify({ stage: { environment: { name: 'dev' } } }) } });
  add('TaskStateEntered', { stateEnteredEventDetails: { name: 'Smoke tests', input: '{}' } });
  add('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: 'smoke', input: '{}' } });
  add('LambdaFunctionStarted');
  add('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error: 'SmokeTestFailed', cause: JSON.stringify({ errorType: 'SmokeTestFailed', errorMessage: 'GET /api/orders answered 500' }) } });
  task('Roll back environment', {});
  add('SucceedStateEntered', { stateEnteredEventDetails: { name: 'Done', input: '{}' } });
  add('SucceedStateExited', { stateExitedEventDetails: { name: 'Done', output: '{}' } });
  add('ExecutionSucceeded', { executionSucceededEventDetails: { output: JSON.stringify({ outcome: { outcome: 'rolled-back', reason: 'dev smoke tests failed: GET /api/orders answered 500' } }) } });
  return out;
}

/**
 * Step Functions as the CLI sees it while an execution runs: each poll finds more of the
 * history, served newest first in pages of 4 (so reading back to the last event seen crosses pages).
 */
function serveHistory(all: HistoryEvent[], perPoll: number) {
  let visible = perPoll;
  sfn.on(GetExecutionHistoryCommand).callsFake((input: { reverseOrder?: boolean; nextToken?: string }) => {
    expect(input.reverseOrder).toBe(true);
    const shown = all.slice(0, visible).reverse();
    const from = Number(input.nextToken ?? 0);
    const page = shown.slice(from, from + 4);
    return { events: page, ...(from + 4 < shown.length ? { nextToken: String(from + 4) } : {}) };
  });
  return { sleep: async () => void (visible = Math.min(all.length, visible + perPoll)) };
}

describe('tagflow --stack', () => {
  let h: Harness;
  let dir: string;
  let configFile: string;
  let clients: (target: { stack: string; region?: string }) => AwsClients;

  beforeAll(async () => {
    h = await startHarness();
    await h.publish('v1.0.0');
    expect((await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.0' }).done).status).toBe('SUCCEEDED');
    dir = mkdtempSync(join(tmpdir(), 'tagflow-stack-cli-'));
    configFile = join(dir, 'tagflow.config.json');
    writeFileSync(configFile, JSON.stringify(demoConfig()));
    const credentials = { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' };
    clients = (target) => ({
      cloudformation: new CloudFormationClient({ region: target.region ?? REGION, credentials }),
      // The deployed table: a real DynamoDB API holding what the release functions wrote.
      dynamodb: new DynamoDBClient({ region: REGION, endpoint: h.rt.aws.dynamoEndpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }),
      sfn: new SFNClient({ region: REGION, credentials }),
      s3: new S3Client({ region: REGION, credentials }),
      eventbridge: new EventBridgeClient({ region: REGION, credentials }),
      cloudwatch: new CloudWatchClient({ region: REGION, credentials }),
      lambda: new LambdaClient({ region: REGION, credentials }),
    });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    cfn.reset();
    sfn.reset();
    events.reset();
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id nope does not exist'), { name: 'ValidationError' }));
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves(stackOutputs());
  });

  async function cli(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(strip(a.join(' '))));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(strip(a.join(' '))));
    try {
      const code = await main([...args, '--config', configFile], { awsClients: clients, follow: { pollMs: 0, sleep: async () => {} } });
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  }

  it('status reads the deployed ledger: the same table the local command shows, with the stack named', async () => {
    const r = await cli('status', '--stack', STACK, '--region', REGION);
    expect(r.code).toBe(0);
    const local = (await statusTable(h.rt.deps.ledger, demoConfig(), undefined, { now: new Date() })).map(strip);
    // The lock line asks Step Functions whether its holder runs: none is held after a finished release.
    expect(r.out.split('\n').slice(0, local.length)).toEqual(local);
    expect(r.out).toContain(`stack ${STACK} (${REGION}): ledger ${LOCAL_TABLE}`);
    expect(cfn.commandCalls(DescribeStacksCommand)[0]!.args[0].input).toEqual({ StackName: STACK });
  });

  it('history and dora read the deployed ledger', async () => {
    const history = await cli('history', '--service', 'demo', '--stack', STACK, '--region', REGION);
    expect(history.code).toBe(0);
    expect(history.out).toMatch(/^v1\.0\.0 {2}succeeded/m);
    expect(history.out).toMatch(/promote\s+prod/);
    const dora = await cli('dora', '--stack', STACK, '--region', REGION);
    expect(dora.code).toBe(0);
    expect(dora.out).toContain('demo');
  });

  it('TAGFLOW_STACK names the stack when --stack is not given; `tagflow local …` never uses one', async () => {
    vi.stubEnv('TAGFLOW_STACK', STACK);
    try {
      const r = await cli('status', '--region', REGION);
      expect(r.out).toContain(`stack ${STACK}`);
      await expect(cli('local', 'release', '--stack', STACK, '--service', 'demo', '--version', 'v1.0.1')).rejects.toThrow('--stack does not go with `tagflow local …`');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('freeze goes through the approval URL, whose function records the signer STS names; the release functions then wait for it; unfreeze records who', async () => {
    const url = `https://abcdefghijklmnop.lambda-url.${REGION}.on.aws/`;
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves(stackOutputs([{ OutputKey: 'ApprovalUrl', OutputValue: url }]));
    const policy = { ...demoConfig(), policy: { approvers: [`arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:user/bob`], approvalTimeoutHours: 24 } };
    writeFileSync(configFile, JSON.stringify(policy));
    const alice = { accessKeyId: 'AKIAALICE0000000', secretAccessKey: 'alice-secret', arn: `arn:aws:iam::${ACCOUNT}:user/alice` };
    const mallory = { accessKeyId: 'AKIAMALLORY00000', secretAccessKey: 'mallory-secret', arn: `arn:aws:iam::${ACCOUNT}:user/mallory` };
    const sts = new FakeSts([alice, mallory]);
    // The function behind the URL: the same core the deployed one runs, on the deployed ledger, verifying through (fake) STS.
    const fn = { config: async () => parseConfig(policy), ledger: h.rt.deps.ledger, clock: systemClock, log: silentLogger, identity: new StsCallerIdentity(sts.fetch) };
    const as = (key: typeof alice) => ({
      credentials: async () => key,
      now: () => new Date(),
      post: async (to: string, init: { body: string; headers: Record<string, string> }) => {
        expect(to).toBe(url);
        const res = await handleApprovalUrlRequest({ urlSignerArn: key.arn, account: ACCOUNT, body: init.body }, { ...fn, approvals: undefined as never, taskTokens: undefined as never });
        return { status: res.status, text: async () => JSON.stringify(res.body) };
      },
    });
    const run = async (key: typeof alice, ...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(strip(a.join(' '))));
      const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(strip(a.join(' '))));
      try {
        const code = await main([...args, '--stack', STACK, '--region', REGION, '--config', configFile], { awsClients: clients, signing: as(key) });
        return { code, out: out.join('\n'), err: err.join('\n') };
      } finally {
        log.mockRestore();
        error.mockRestore();
      }
    };
    try {
      const until = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16) + 'Z';
      const refused = await run(mallory, 'freeze', '--environments', 'prod', '--until', until, '--reason', 'not mine to freeze', '--name', 'inc-8');
      expect(refused.code).toBe(2);
      expect(refused.err).toContain('only policy.approvers may freeze');
      const frozen = await run(alice, 'freeze', '--environments', 'prod', '--until', until, '--reason', 'INC-9: payments down', '--name', 'inc-9');
      expect(frozen.code).toBe(0);
      expect(frozen.out).toContain(`frozen by ${alice.arn}`);
      expect(frozen.out).toContain(`tagflow unfreeze inc-9 --stack ${STACK}`);
      // What STS was asked to verify was bound to exactly this freeze.
      expect(sts.calls.at(-1)!.headers['x-tagflow-approval']).toMatch(/^tagflow-freeze\/1 action=freeze name=inc-9 service=\* /);

      await h.publish('v1.0.1');
      // No windows in this policy: prod waits for the freeze to end (locally the clock jumps there), naming it and who declared it.
      await h.rt.startExecution('release', { service: 'demo', version: 'v1.0.1' }).done;
      const decision = (await h.rt.deps.ledger.decisions('demo', 'v1.0.1')).find((d) => d.step === 'policy' && d.environment === 'prod');
      expect(decision).toMatchObject({ verdict: 'waiting', summary: expect.stringContaining(`"inc-9" (declared by ${alice.arn})`) });

      expect((await run(mallory, 'unfreeze', 'inc-9')).code).toBe(2);
      const unfrozen = await run(alice, 'unfreeze', 'inc-9');
      expect(unfrozen.code).toBe(0);
      expect((await h.rt.deps.ledger.freezes()).find((f) => f.name === 'inc-9')).toMatchObject({ frozenBy: alice.arn, unfrozenBy: alice.arn });
    } finally {
      writeFileSync(configFile, JSON.stringify(demoConfig()));
    }
  });

  it('a stack without an ApprovalUrl cannot take a freeze: in AWS an approver declares it', async () => {
    const until = new Date(Date.now() + 86_400_000).toISOString().slice(0, 16) + 'Z';
    await expect(cli('freeze', '--stack', STACK, '--region', REGION, '--environments', 'prod', '--until', until, '--reason', 'x')).rejects.toThrow(`stack ${STACK} has no ApprovalUrl output`);
  });

  it('release starts the deployed machine and follows its history to the end with the local progress view and the console URL', async () => {
    const all = history();
    sfn.on(StartExecutionCommand).resolves({ executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:ReleaseStateMachine1A2B3C4D-Xy9:tagflow-cli-release-1`, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:ReleaseStateMachine1A2B3C4D-Xy9:tagflow-cli-release-1`,
      stateMachineArn: RELEASE_ARN,
      name: 'tagflow-cli-release-1',
      status: 'SUCCEEDED',
      startDate: new Date('2026-11-30T12:00:00Z'),
      stopDate: new Date('2026-11-30T12:00:03.200Z'),
      input: '{"service":"demo","version":"v2.0.0"}',
      output: all.at(-1)!.executionSucceededEventDetails!.output!,
    });
    const served = serveHistory(all, 5);
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(strip(a.join(' '))));
    let code: number;
    try {
      code = await main(['release', '--stack', STACK, '--region', REGION, '--service', 'demo', '--version', 'v2.0.0', '--config', configFile], { awsClients: clients, follow: { pollMs: 0, sleep: served.sleep } });
    } finally {
      log.mockRestore();
    }
    expect(code).toBe(0);
    const start = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(start.stateMachineArn).toBe(RELEASE_ARN);
    expect(JSON.parse(start.input!)).toEqual({ service: 'demo', version: 'v2.0.0' });
    const text = out.join('\n');
    expect(text).toContain(`console https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/arn:aws:states:${REGION}`);
    const lines = out.filter((l) => /^\s+[✓✗↻]|──/.test(l)).map((l) => l.replace(/\s+\d+ ms$/, '').trim());
    expect(lines).toEqual([
      '✓ Normalise input',
      '✓ Claim release',
      '↻ Tests gate retry 1',
      '✓ Tests gate',
      '── dev ──',
      '✗ Smoke tests                  SmokeTestFailed: GET /api/orders answered 500',
      '✓ Roll back environment',
      '✓ Done',
    ]);
    expect(text).toContain('✔ SUCCEEDED in 3.2 s — dev smoke tests failed: GET /api/orders answered 500');
    // Every event was shown once although each poll re-read the newest page.
    expect(sfn.commandCalls(GetExecutionHistoryCommand).length).toBeGreaterThan(all.length / 5);
  });

  it('a failed execution exits 1; a bad input is refused before anything is sent', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:RollbackStateMachine5E6F7A8B-Zq1:r1`, startDate: new Date() });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 2, previousEventId: 1, timestamp: new Date(), type: 'ExecutionFailed', executionFailedEventDetails: { error: 'NothingToRollBack', cause: 'no previous good version' } }] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: 'x', stateMachineArn: ROLLBACK_ARN, status: 'FAILED', error: 'NothingToRollBack', cause: 'no previous good version of demo in prod', startDate: new Date(), stopDate: new Date() });
    const failed = await cli('rollback', '--stack', STACK, '--region', REGION, '--service', 'demo', '--environment', 'prod', '--reason', 'errors up');
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('✘ FAILED (NothingToRollBack)');
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.stateMachineArn).toBe(ROLLBACK_ARN);

    sfn.resetHistory();
    await expect(cli('release', '--stack', STACK, '--region', REGION, '--service', 'demo', '--version', 'latest')).rejects.toThrow(/the release input is not valid, so nothing was started: .*version/);
    await expect(cli('release', '--stack', STACK, '--region', REGION, '--service', 'demo', '--version', 'v2.0.1', '--approve', 'bob')).rejects.toThrow('--approve is a local convenience');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('send-event puts the event on the stack bus', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '11710aed-b79e-4468-a20b-bb3c0c3b4860' }] });
    const file = join(dir, 'tag.json');
    writeFileSync(file, JSON.stringify({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { service: 'demo', tag: 'v2.0.0', commit: 'a'.repeat(40) } }));
    const r = await cli('send-event', '--stack', STACK, '--region', REGION, '--file', file);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`put on bus ${STACK} as event 11710aed-b79e-4468-a20b-bb3c0c3b4860`);
    expect(events.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries).toEqual([
      { EventBusName: STACK, Source: 'tagflow', DetailType: 'Tag Pushed', Detail: JSON.stringify({ service: 'demo', tag: 'v2.0.0', commit: 'a'.repeat(40) }) },
    ]);
  });

  it('approve finds the ApprovalUrl in the stack outputs', async () => {
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves(stackOutputs([{ OutputKey: 'ApprovalUrl', OutputValue: `https://abcdefghijklmnop.lambda-url.${REGION}.on.aws/` }]));
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_PROFILE', '');
    const posted: string[] = [];
    vi.stubGlobal('fetch', async (url: string) => {
      posted.push(url);
      return new Response(JSON.stringify({ message: 'alice approved demo v2.0.0 into prod (1/1)' }), { status: 200 });
    });
    try {
      const r = await cli('approve', '--stack', STACK, '--region', REGION, '--service', 'demo', '--version', 'v2.0.0', '--environment', 'prod');
      expect(r.code).toBe(0);
      expect(posted[0]).toBe(`https://abcdefghijklmnop.lambda-url.${REGION}.on.aws/`);
      expect(r.out).toContain('✓ alice approved demo v2.0.0 into prod (1/1)');
    } finally {
      vi.unstubAllGlobals();
      vi.unstubAllEnvs();
    }
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves(stackOutputs());
    await expect(cli('approve', '--stack', STACK, '--region', REGION, '--service', 'demo', '--version', 'v2.0.0', '--environment', 'prod')).rejects.toThrow(`stack ${STACK} has no ApprovalUrl output`);
  });

  it('plan reads the live version from the deployed ledger and its traffic from CloudWatch', async () => {
    const payments = { target: { type: 'lambda-alias', functionName: 'payments-prod', alias: 'live' }, environments: [{ name: 'prod', canary: { steps: [10, 50, 100] } }] };
    writeFileSync(configFile, JSON.stringify({ ...demoConfig(), services: { ...demoConfig().services, payments } }));
    const holder = 'arn:aws:states:eu-west-1:123456789012:execution:release:seed';
    const lock = await h.rt.deps.ledger.acquireLock('payments', 'prod', holder, Date.now(), 60_000);
    if (!lock.acquired) throw new Error('lock');
    await h.rt.deps.ledger.putEnvironment({ ...lock.state, version: 'v3.1.0', refs: { 'v3.1.0': '17' }, goodVersions: ['v3.1.0'], healthy: true }, holder);
    await h.rt.deps.ledger.releaseLock('payments', 'prod', holder);
    const cw = mockClient(CloudWatchClient);
    // Two days of the live version: 1000 requests and 5 errors a minute, as CloudWatch answers (oldest first).
    const since = Date.now() - 2 * 86_400_000;
    const minutes = Array.from({ length: 2 * 1440 }, (_, i) => new Date(since + i * 60_000));
    cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [
      { Id: 'requests', Label: 'Invocations', Timestamps: minutes, Values: minutes.map(() => 1000), StatusCode: 'Complete' },
      { Id: 'errors', Label: 'Errors', Timestamps: minutes, Values: minutes.map(() => 5), StatusCode: 'Complete' },
    ] });
    try {
      const r = await cli('plan', '--stack', STACK, '--region', REGION, '--service', 'payments', '--runs', '0');
      expect(r.code).toBe(0);
      expect(r.out).toContain('1,000 requests/min to the environment (measured over the last 7 days: v3.1.0 served 2,880,000 requests, 14,400 errors in 2 days)');
      const query = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
      expect(query.MetricDataQueries!.map((q) => q.MetricStat!.Metric!.Dimensions)).toContainEqual([
        { Name: 'FunctionName', Value: 'payments-prod' },
        { Name: 'Resource', Value: 'payments-prod:live' },
        { Name: 'ExecutedVersion', Value: '17' },
      ]);
    } finally {
      cw.restore();
      writeFileSync(configFile, JSON.stringify(demoConfig()));
    }
  });

  it('drift compares each Lambda alias with the deployed ledger, naming both versions', async () => {
    const api = { target: { type: 'lambda-alias', functionName: 'api-{environment}', alias: 'live' }, environments: [{ name: 'prod' }] };
    writeFileSync(configFile, JSON.stringify({ services: { api } }));
    const holder = 'arn:aws:states:eu-west-1:123456789012:execution:release:seed-api';
    const lock = await h.rt.deps.ledger.acquireLock('api', 'prod', holder, Date.now(), 60_000);
    if (!lock.acquired) throw new Error('lock');
    await h.rt.deps.ledger.putEnvironment({ ...lock.state, version: 'v2.0.0', refs: { 'v1.9.0': '11', 'v2.0.0': '12' }, goodVersions: ['v2.0.0', 'v1.9.0'], healthy: true }, holder);
    await h.rt.deps.ledger.releaseLock('api', 'prod', holder);
    const lambda = mockClient(LambdaClient);
    try {
      lambda.on(GetAliasCommand, { FunctionName: 'api-prod', Name: 'live' }).resolves({ AliasArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:api-prod:live`, Name: 'live', FunctionVersion: '12' });
      expect((await cli('drift', '--stack', STACK, '--region', REGION)).code).toBe(0);
      // Someone moved the alias back to version 11 and sent 5% to version 13 in the console.
      lambda.on(GetAliasCommand, { FunctionName: 'api-prod', Name: 'live' }).resolves({ Name: 'live', FunctionVersion: '11', RoutingConfig: { AdditionalVersionWeights: { '13': 0.05 } } });
      const r = await cli('drift', '--stack', STACK, '--region', REGION);
      expect(r.code).toBe(1);
      expect(r.out).toContain('✗ api prod drifted: the ledger has v2.0.0 (12); it serves v1.9.0 (11) with 13, which no release recorded here at 5%');
    } finally {
      lambda.restore();
      writeFileSync(configFile, JSON.stringify(demoConfig()));
    }
  });

  it('release --train starts the deployed train machine; a stack without trains says so', async () => {
    const TRAIN_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:TrainStateMachine9A8B7C6D-Tr1`;
    writeFileSync(configFile, JSON.stringify({ ...demoConfig({ services: ['web', 'api'] }), trains: { shop: { services: ['web', 'api'] } } }));
    sfn.on(StartExecutionCommand).resolves({ executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:TrainStateMachine9A8B7C6D-Tr1:t1`, startDate: new Date() });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 3, previousEventId: 2, timestamp: new Date(), type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: '{}' } }] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: 'x', stateMachineArn: TRAIN_ARN, status: 'SUCCEEDED', output: '{}', startDate: new Date(), stopDate: new Date() });
    try {
      await expect(cli('release', '--stack', STACK, '--region', REGION, '--train', 'shop', '--version', 'v2.0.0')).rejects.toThrow(`stack ${STACK} has no train state machine (output TrainStateMachineArn: its config has no trains)`);
      cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves(stackOutputs([{ OutputKey: 'TrainStateMachineArn', OutputValue: TRAIN_ARN }]));
      const r = await cli('release', '--stack', STACK, '--region', REGION, '--train', 'shop', '--version', 'v2.0.0');
      expect(r.code).toBe(0);
      const start = sfn.commandCalls(StartExecutionCommand).at(-1)!.args[0].input;
      expect(start.stateMachineArn).toBe(TRAIN_ARN);
      expect(JSON.parse(start.input!)).toEqual({ train: 'shop', version: 'v2.0.0' });
    } finally {
      writeFileSync(configFile, JSON.stringify(demoConfig()));
    }
  });

  it('start-execution, publish-build, report-tests and report work on the stack too', async () => {
    const input = join(dir, 'input.json');
    writeFileSync(input, JSON.stringify({ service: 'demo', version: 'v2.0.2' }));
    sfn.on(StartExecutionCommand).resolves({ executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:ReleaseStateMachine1A2B3C4D-Xy9:c1`, startDate: new Date() });
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 9, previousEventId: 8, timestamp: new Date(), type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: '{}' } }] });
    sfn.on(DescribeExecutionCommand).resolves({ executionArn: 'x', stateMachineArn: RELEASE_ARN, status: 'SUCCEEDED', output: JSON.stringify({ outcome: { reason: 'v2.0.2 is live in dev, staging, prod' } }), startDate: new Date(), stopDate: new Date() });
    const started = await cli('start-execution', '--stack', STACK, '--region', REGION, '--machine', 'release', '--input', input);
    expect(started.code).toBe(0);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!)).toEqual({ service: 'demo', version: 'v2.0.2' });
    writeFileSync(input, JSON.stringify({ service: 123, version: 'v2.0.2' }));
    await expect(cli('start-execution', '--stack', STACK, '--region', REGION, '--machine', 'release', '--input', input)).rejects.toThrow('nothing was started');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);

    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({ ETag: '"9b2cf535f27731c974343645a3985328"' });
    try {
      const commit = 'c'.repeat(40);
      expect((await cli('publish-build', '--stack', STACK, '--region', REGION, '--service', 'demo', '--version', 'v2.0.2', '--commit', commit, '--dir', GOOD_DIR, '--entry', 'app.mjs')).code).toBe(0);
      expect((await cli('report-tests', '--stack', STACK, '--region', REGION, '--service', 'demo', '--commit', commit, '--suite', 'unit:10:0')).code).toBe(0);
      const keys = s3.commandCalls(PutObjectCommand).map((c) => `${c.args[0].input.Bucket}/${c.args[0].input.Key}`);
      expect(keys).toContain(`tagflow-prod-artifactsbucket2aac5544-1x2y3z4w5v6u/builds/demo/v2.0.2/manifest.json`);
      expect(keys).toContain(`tagflow-prod-artifactsbucket2aac5544-1x2y3z4w5v6u/ci/demo/${commit}.json`);
      // The report reads the build's manifest for its notes from the stack's bucket.
      s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }));
      const out = join(dir, 'report.html');
      const report = await cli('report', '--stack', STACK, '--region', REGION, '--service', 'demo', '--version', 'v1.0.0', '--out', out);
      expect(report.code).toBe(0);
      expect(readFileSync(out, 'utf8')).toContain('v1.0.0');
      expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Bucket)).toContain('tagflow-prod-artifactsbucket2aac5544-1x2y3z4w5v6u');
    } finally {
      s3.restore();
    }
  });

  it('a bad stack name, missing credentials or a stack that is not tagflow’s is one line saying what to do', async () => {
    await expect(cli('status', '--stack', 'nope', '--region', REGION)).rejects.toThrow(`stack nope does not exist in ${REGION}: check --stack (or TAGFLOW_STACK) and --region (or AWS_REGION)`);
    cfn.on(DescribeStacksCommand, { StackName: STACK }).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    await expect(cli('status', '--stack', STACK, '--region', REGION)).rejects.toThrow('no AWS credentials found to read stack tagflow-prod: pass --profile NAME or set AWS_PROFILE');
    cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({ Stacks: [{ StackName: STACK, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date(), Outputs: [{ OutputKey: 'WebsiteUrl', OutputValue: 'https://example.com' }] }] });
    await expect(cli('status', '--stack', STACK, '--region', REGION)).rejects.toThrow(/is not a tagflow stack: it has no output LedgerTableName, ReleaseStateMachineArn, EventBusName, ArtifactsBucketName/);
  });
});
