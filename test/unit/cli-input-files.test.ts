import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventRules, rulesMatching } from '../../lambdas/lib/event-rules.js';
import { parseConfig } from '../../lambdas/lib/config.js';
import { CliInputError, errorReport, executionExitCode, exitCodeOf, NothingMatches } from '../../local/cli/cli-errors.js';
import { eventsFromFile, readJsonFile } from '../../local/cli/input-files.js';

/** Issue 14: the files the CLI reads, as a new user writes them, and the exit codes it ends with. */

const dir = mkdtempSync(join(tmpdir(), 'tagflow-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const thrown = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
};
const defaults = { now: new Date('2026-12-01T10:00:00.123Z'), account: '000000000000', region: 'us-east-1', id: () => 'id-1' };

describe('readJsonFile', () => {
  it('accepts a UTF-8 byte order mark', () => {
    expect(readJsonFile(file('bom.json', '\uFEFF{"service":"demo"}'), 'input')).toEqual({ service: 'demo' });
  });

  it('invalid JSON is one line naming the file, exit 2, without the usage text', () => {
    const err = thrown(() => readJsonFile(file('bad.json', '{"service": demo}'), 'input'));
    expect(err).toBeInstanceOf(CliInputError);
    expect(err.message).toMatch(new RegExp(`^input file ${join(dir, 'bad.json')} is not valid JSON: .+$`));
    expect(err.message).not.toContain('\n');
    expect(errorReport(err)).toEqual({ code: 2, text: `error: ${err.message}` });
  });

  it('a missing file, a folder and an empty file are each one line', () => {
    expect(thrown(() => readJsonFile(join(dir, 'nope.json'), 'event')).message).toBe(`event file ${join(dir, 'nope.json')} does not exist`);
    expect(thrown(() => readJsonFile(dir, 'event')).message).toBe(`event file ${dir} is a folder; pass a JSON file`);
    expect(thrown(() => readJsonFile(file('empty.json', ' \n'), 'event')).message).toBe(`event file ${join(dir, 'empty.json')} is empty; expected JSON`);
  });
});

describe('eventsFromFile', () => {
  it("takes the README's put-events example exactly as CI sends it, and a rule of the stack matches it", () => {
    const readme = readFileSync('README.md', 'utf8');
    const entries = /aws events put-events --entries '(\[.*?\])'/.exec(readme)?.[1];
    expect(entries).toBeDefined();
    const { events, notes } = eventsFromFile(JSON.parse(entries!), defaults);
    expect(notes).toEqual([]);
    expect(events).toEqual([
      {
        version: '0',
        id: 'id-1',
        'detail-type': 'Tag Pushed',
        source: 'tagflow',
        account: '000000000000',
        time: '2026-12-01T10:00:00Z',
        region: 'us-east-1',
        resources: [],
        detail: { repository: 'acme/checkout', tag: 'v2.4.0', commit: '<40-hex>' },
      },
    ]);
    const config = parseConfig({ services: { checkout: { triggers: { github: 'acme/checkout' }, environments: [{ name: 'dev' }] } } });
    expect(rulesMatching(events[0]!, eventRules(config)).map((m) => m.rule.name)).toEqual(['tag-pushed']);
  });

  it('takes one entry, {"Entries": [...]} (--cli-input-json), Time and Resources', () => {
    const entry = { Source: 'tagflow', DetailType: 'Tag Pushed', Detail: '{"service":"demo","tag":"v1.0.0"}', Time: '2026-11-20T10:15:00Z', Resources: ['arn:x'] };
    expect(eventsFromFile(entry, defaults).events[0]).toMatchObject({ time: '2026-11-20T10:15:00Z', resources: ['arn:x'], detail: { service: 'demo', tag: 'v1.0.0' } });
    expect(eventsFromFile({ Entries: [entry, { ...entry, Time: 1_764_000_000 }] }, defaults).events.map((e) => e.time)).toEqual(['2026-11-20T10:15:00Z', '2025-11-24T16:00:00Z']);
  });

  it('an EventBridge event as a rule receives it gets the fields EventBridge adds', () => {
    expect(eventsFromFile({ source: 'tagflow', 'detail-type': 'Tag Pushed', detail: { service: 'demo', tag: 'v1.0.0' } }, defaults).events[0]).toEqual({
      version: '0', id: 'id-1', 'detail-type': 'Tag Pushed', source: 'tagflow', account: '000000000000', time: '2026-12-01T10:00:00Z', region: 'us-east-1', resources: [], detail: { service: 'demo', tag: 'v1.0.0' },
    });
  });

  it('says which entry field is wrong and what put-events expects', () => {
    const base = { Source: 'tagflow', DetailType: 'Tag Pushed', Detail: '{"tag":"v1.0.0"}' };
    expect(thrown(() => eventsFromFile([{ ...base, Detail: { tag: 'v1.0.0' } }], defaults)).message).toMatch(/^\[0\]\.Detail: put-events takes the detail as a JSON string/);
    expect(thrown(() => eventsFromFile({ Entries: [base, { ...base, Detail: '{tag' }] }, defaults)).message).toMatch(/^Entries\[1\]\.Detail is not valid JSON/);
    expect(thrown(() => eventsFromFile({ DetailType: 'Tag Pushed', Detail: '{}' }, defaults)).message).toMatch(/^Source: is required, e\.g\. "tagflow"/);
    expect(thrown(() => eventsFromFile({ ...base, Detail: '[1]' }, defaults)).message).toMatch(/^Detail must hold a JSON object/);
    expect(thrown(() => eventsFromFile({ ...base, source: 'x' }, defaults)).message).toMatch(/^"detail-type" must be a non-empty string/);
    expect(thrown(() => eventsFromFile(Array(11).fill(base), defaults)).message).toMatch(/at most 10 entries a call; got 11/);
    expect(thrown(() => eventsFromFile({ Source: 'tagflow', DetailType: 'x', Detail: '{}', Bus: 'b' }, defaults)).message).toMatch(/^Bus: not a put-events entry field/);
    expect(thrown(() => eventsFromFile({ hello: 1 }, defaults))).toBeInstanceOf(CliInputError);
  });

  it('notes an entry put to another bus than the local one', () => {
    const { notes } = eventsFromFile([{ Source: 'tagflow', DetailType: 'Tag Pushed', Detail: '{}', EventBusName: 'arn:aws:events:us-east-1:1:event-bus/other' }], defaults);
    expect(notes).toEqual([expect.stringMatching(/^\[0\]\.EventBusName arn:aws:events:us-east-1:1:event-bus\/other: the local runtime has one bus/)]);
  });
});

describe('exit codes', () => {
  const duplicate = (outcome: string) => ({ status: 'SUCCEEDED' as const, output: { claim: { claimed: false, reason: 'DUPLICATE', earlier: { outcome } } } });

  it('an execution: 0 succeeded, 1 failed, 2 its input refused; a duplicate of an attempt that did not succeed is 1', () => {
    expect(executionExitCode({ status: 'SUCCEEDED', output: { claim: { claimed: true } } })).toBe(0);
    expect(executionExitCode({ status: 'FAILED', error: 'SmokeTestFailed' })).toBe(1);
    expect(executionExitCode({ status: 'ABORTED' })).toBe(1);
    expect(executionExitCode({ status: 'FAILED', error: 'InvalidInput' })).toBe(2);
    expect(executionExitCode(duplicate('succeeded'))).toBe(0);
    expect(executionExitCode(duplicate('failed'))).toBe(1);
    expect(executionExitCode(duplicate('rolled-back'))).toBe(1);
    expect(executionExitCode(duplicate('aborted'))).toBe(1);
  });

  it('an error: input errors of every kind 2, anything else 1', () => {
    const named = (name: string) => Object.assign(new Error('x'), { name });
    for (const name of ['ConfigError', 'DataDirBusy', 'StackProblem', 'PlanInputError', 'FreezeInputError']) expect(exitCodeOf(named(name)), name).toBe(2);
    expect(exitCodeOf(new CliInputError('x'))).toBe(2);
    expect(exitCodeOf(new NothingMatches('x'))).toBe(2);
    expect(exitCodeOf(new Error('ECONNREFUSED'))).toBe(1);
    const argsError = Object.assign(new TypeError("Unknown option '--servce'"), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
    expect(errorReport(argsError)).toEqual({ code: 2, text: "error: Unknown option '--servce'" });
  });
});
