import { describe, expect, it } from 'vitest';
import { evaluatePattern, explainMismatch, matchesPattern, validatePattern, type EventPattern } from '../../lambdas/lib/event-pattern.js';

// The sample event of EventBridge's content-filtering docs and aws/event-ruler's README.
const ec2 = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8, 'source-ip': '10.0.0.33', 'instance-id': 'i-000000aaaaaa00000', state: 'running' },
};
const withDetail = (detail: Record<string, unknown>) => ({ ...ec2, detail: { ...ec2.detail, ...detail } });
const m = (pattern: EventPattern, event: unknown = ec2) => matchesPattern(pattern, event);

describe('matchesPattern: exact values, fields and arrays', () => {
  it('ANDs fields and ORs the values listed for a field', () => {
    const p = { 'detail-type': ['EC2 Instance State-change Notification'], resources: ec2.resources, detail: { state: ['initializing', 'running'] } };
    expect(m(p)).toBe(true);
    expect(m(p, withDetail({ state: 'initializing' }))).toBe(true);
    expect(m(p, withDetail({ state: 'stopped' }))).toBe(false);
    expect(m({ ...p, source: ['aws.s3'] })).toBe(false);
  });

  it('treats account, region, source and detail-type as ordinary fields', () => {
    expect(m({ account: ['012345679012'], region: ['us-east-1'] })).toBe(true);
    expect(m({ account: ['123456789012'] })).toBe(false);
    expect(m({ region: [{ prefix: 'us-' }], source: [{ suffix: 'ec2' }] })).toBe(true);
  });

  it('matches an event array when any element matches (non-empty intersection)', () => {
    const p = { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] };
    const event = { resources: ['arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x', 'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] };
    expect(m(p, event)).toBe(true);
    expect(m(p, { resources: ['arn:aws:s3:::bucket'] })).toBe(false);
    expect(m({ tags: ['admin'] }, { tags: ['user', 'admin'] })).toBe(true);
    expect(m({ tags: ['superadmin'] }, { tags: ['user', 'admin'] })).toBe(false);
  });

  it('matches nested fields under an array of objects only within one element', () => {
    const event = { employees: [{ firstName: 'John', lastName: 'Doe' }, { firstName: 'Anna', lastName: 'Smith' }, { firstName: 'Peter', lastName: 'Jones' }] };
    expect(m({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
    expect(m({ employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event)).toBe(true);
    expect(m({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event)).toBe(false);
    expect(m({ employees: { firstName: ['Anna'] } }, { employees: [[{ firstName: 'John' }], [{ firstName: 'Anna' }]] })).toBe(true);
  });

  it('matches nested objects (AND at every level) and fails when the path is absent', () => {
    const alarm = { detail: { state: { value: 'ALARM' }, previousState: { value: 'OK' } } };
    expect(m({ detail: { state: { value: ['ALARM'] }, previousState: { value: ['OK'] } } }, alarm)).toBe(true);
    expect(m({ detail: { state: { value: ['ALARM'] }, previousState: { value: ['ALARM'] } } }, alarm)).toBe(false);
    expect(m({ detail: { state: { value: ['ALARM'] } } }, { detail: { state: 'ALARM' } })).toBe(false);
    expect(m({ detail: { state: { value: ['ALARM'] } } }, 'not an object')).toBe(false);
  });

  it('never lets strings match numbers or booleans, nor null match the empty string', () => {
    expect(m({ detail: { 'c-count': [5] } })).toBe(true);
    expect(m({ detail: { 'c-count': ['5'] } })).toBe(false);
    expect(m({ n: [5] }, { n: '5' })).toBe(false);
    expect(m({ x: [300] }, { x: 3.0e2 })).toBe(true);
    expect(m({ b: [true] }, { b: 'true' })).toBe(false);
    expect(m({ b: [true] }, { b: true })).toBe(true);
    const e = { detail: { eventVersion: '', responseElements: null } };
    expect(m({ detail: { eventVersion: [''] } }, e)).toBe(true);
    expect(m({ detail: { responseElements: [null] } }, e)).toBe(true);
    expect(m({ detail: { responseElements: [''] } }, e)).toBe(false);
    expect(m({ detail: { eventVersion: [null] } }, e)).toBe(false);
    expect(m({ detail: { missing: [null] } }, e)).toBe(false);
  });
});

describe('matchesPattern: string operators', () => {
  it('prefix, also ignoring case, on strings only', () => {
    expect(m({ time: [{ prefix: '2017-10-02' }] })).toBe(true);
    expect(m({ time: [{ prefix: '2017-10-03' }] })).toBe(false);
    expect(m({ detail: { 'c-count': [{ prefix: '5' }] } })).toBe(false);
    const p = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    expect(m(p, { detail: { service: 'eventbridge' } })).toBe(true);
    expect(m(p, { detail: { service: 'EVENTBRIDGE' } })).toBe(true);
    expect(m(p, { detail: { service: 'lambda' } })).toBe(false);
    expect(m({ source: [{ prefix: '' }] })).toBe(true);
  });

  it('suffix, also ignoring case', () => {
    expect(m({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' })).toBe(true);
    expect(m({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.PNG' })).toBe(false);
    expect(m({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { FileName: 'image.PNG' })).toBe(true);
    expect(m({ FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { FileName: 'image.jpg' })).toBe(false);
  });

  it('equals-ignore-case', () => {
    expect(m({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alice' })).toBe(true);
    expect(m({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alicia' })).toBe(false);
    expect(m({ source: [{ 'equals-ignore-case': 'AWS.EC2' }] })).toBe(true);
  });

  it('wildcard: * matches any run of characters, \\* a literal star; strings only', () => {
    expect(m({ source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleQueueService' })).toBe(true);
    expect(m({ source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleService' })).toBe(true);
    expect(m({ source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleQueue' })).toBe(false);
    expect(m({ key: [{ wildcard: 'dir/*.png' }] }, { key: 'dir/a/b.png' })).toBe(true);
    expect(m({ key: [{ wildcard: 'dir/*.png' }] }, { key: 'other/b.png' })).toBe(false);
    expect(m({ key: [{ wildcard: '*Title*' }] }, { key: 'A Title here' })).toBe(true);
    expect(m({ key: [{ wildcard: 'a\\*b' }] }, { key: 'a*b' })).toBe(true);
    expect(m({ key: [{ wildcard: 'a\\*b' }] }, { key: 'axxb' })).toBe(false);
    expect(m({ key: [{ wildcard: 'a.c' }] }, { key: 'abc' })).toBe(false);
    expect(m({ n: [{ wildcard: '1*' }] }, { n: 12 })).toBe(false);
  });

  it('cidr, IPv4 and IPv6, on address strings', () => {
    expect(m({ detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } })).toBe(true);
    expect(m({ detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, withDetail({ 'source-ip': '10.0.1.33' }))).toBe(false);
    expect(m({ detail: { 'source-ip': [{ cidr: '10.0.0.0/8' }] } }, withDetail({ 'source-ip': '10.200.3.4' }))).toBe(true);
    expect(m({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8::1' })).toBe(true);
    expect(m({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::1' })).toBe(false);
    expect(m({ ip: [{ cidr: '2001:db8::/32' }] }, { ip: '10.0.0.1' })).toBe(false);
    expect(m({ ip: [{ cidr: '10.0.0.0/24' }] }, { ip: 'not-an-ip' })).toBe(false);
  });
});

describe('matchesPattern: anything-but', () => {
  it('single values and lists of strings or numbers', () => {
    expect(m({ detail: { state: [{ 'anything-but': 'initializing' }] } })).toBe(true);
    expect(m({ detail: { state: [{ 'anything-but': 'initializing' }] } }, withDetail({ state: 'initializing' }))).toBe(false);
    expect(m({ detail: { 'x-limit': [{ 'anything-but': 123 }] } })).toBe(true);
    expect(m({ detail: { 'x-limit': [{ 'anything-but': 123 }] } }, withDetail({ 'x-limit': 123 }))).toBe(false);
    expect(m({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } })).toBe(true);
    expect(m({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, withDetail({ state: 'overloaded' }))).toBe(false);
    expect(m({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } })).toBe(true);
    expect(m({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, withDetail({ 'x-limit': 200 }))).toBe(false);
  });

  it('is typed: anything-but 5 matches the string "5"', () => {
    expect(m({ n: [{ 'anything-but': 5 }] }, { n: '5' })).toBe(true);
    expect(m({ n: [{ 'anything-but': '5' }] }, { n: 5 })).toBe(true);
  });

  it('needs the field to be present', () => {
    expect(m({ detail: { nope: [{ 'anything-but': 'x' }] } })).toBe(false);
  });

  it('prefix, suffix, equals-ignore-case and wildcard forms', () => {
    const notInit = { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } };
    expect(m(notInit)).toBe(true);
    expect(m(notInit, withDetail({ state: 'initializing' }))).toBe(false);
    expect(m({ Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'eu-west-1' })).toBe(true);
    expect(m({ Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'us-east-1' })).toBe(false);
    expect(m({ FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'a.jpg' })).toBe(true);
    expect(m({ FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'a.png' })).toBe(false);
    expect(m({ state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, { state: 'INITIALIZING' })).toBe(false);
    expect(m({ state: [{ 'anything-but': { 'equals-ignore-case': ['a', 'b'] } }] }, { state: 'B' })).toBe(false);
    expect(m({ state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] }, { state: 'running' })).toBe(true);
    expect(m({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: 'src/lib/a.ts' })).toBe(false);
    expect(m({ FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: 'src/bin/a.ts' })).toBe(true);
  });

  it('matches an event array when any element is not excluded', () => {
    expect(m({ tags: [{ 'anything-but': 'banned' }] }, { tags: ['banned', 'ok'] })).toBe(true);
    expect(m({ tags: [{ 'anything-but': 'banned' }] }, { tags: ['banned'] })).toBe(false);
  });
});

describe('matchesPattern: numeric', () => {
  it('the documented ranges match JSON numbers', () => {
    const p = { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } };
    expect(m(p)).toBe(true);
    expect(m(p, withDetail({ 'c-count': 0 }))).toBe(false);
    expect(m(p, withDetail({ 'c-count': 6 }))).toBe(false);
    expect(m(p, withDetail({ 'd-count': 10 }))).toBe(false);
    expect(m(p, withDetail({ 'x-limit': 301.80001 }))).toBe(false);
  });

  it('bounds are inclusive or exclusive as written', () => {
    const at = (spec: (string | number)[], v: number) => m({ v: [{ numeric: spec }] }, { v });
    expect([at(['>=', 5], 5), at(['>', 5], 5), at(['<=', 5], 5), at(['<', 5], 5), at(['=', 5], 5)]).toEqual([true, false, true, false, true]);
    expect(at(['>=', -1.5, '<', 0], -1.5)).toBe(true);
  });

  it('never matches numeric strings', () => {
    expect(m({ v: [{ numeric: ['>', 0] }] }, { v: '5' })).toBe(false);
    expect(m({ v: [{ numeric: ['>', 0] }] }, { v: [1, 'x'] })).toBe(true);
  });
});

describe('matchesPattern: exists', () => {
  it('exists: true on a present leaf, false on a missing one', () => {
    expect(m({ detail: { 'c-count': [{ exists: true }] } })).toBe(true);
    expect(m({ detail: { 'c-count': [{ exists: false }] } })).toBe(false);
    const noCount = { 'detail-type': 'x', detail: { state: 'running' } };
    expect(m({ detail: { 'c-count': [{ exists: false }] } }, noCount)).toBe(true);
    expect(m({ detail: { 'c-count': [{ exists: true }] } }, noCount)).toBe(false);
    expect(m({ detail: { 'c-count': [{ exists: false }] } }, { source: 'x' })).toBe(true);
  });

  it('only sees leaves: an object field does not "exist" (documented example)', () => {
    const event = { detail: { state: ['initializing', 'running'], 'c-count': { c1: 100 } } };
    expect(m({ detail: { 'c-count': [{ exists: false }] } }, event)).toBe(true);
    expect(m({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
  });

  it('null is a present value; an empty array is not', () => {
    expect(m({ v: [{ exists: true }] }, { v: null })).toBe(true);
    expect(m({ v: [{ exists: true }] }, { v: [] })).toBe(false);
    expect(m({ v: [{ exists: false }] }, { v: [] })).toBe(true);
  });

  it('holds per element under an array of objects', () => {
    const p = { d: { a: [{ exists: true }], b: [{ exists: true }] } };
    expect(m(p, { d: [{ a: 1 }, { b: 2 }] })).toBe(false);
    expect(m(p, { d: [{ a: 1 }, { b: 2 }, { a: 3, b: 4 }] })).toBe(true);
    expect(m({ d: { a: [{ exists: true }], b: [{ exists: false }] } }, { d: [{ a: 1 }] })).toBe(true);
  });
});

describe('matchesPattern: $or', () => {
  it('ORs its sub-patterns and ANDs them with sibling fields', () => {
    const p: EventPattern = { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] };
    expect(m(p, { source: 'aws.cloudwatch', metricName: 'ReadLatency' })).toBe(true);
    expect(m(p, { source: 'aws.cloudwatch', namespace: 'AWS/ES' })).toBe(true);
    expect(m(p, { source: 'aws.cloudwatch', namespace: 'AWS/S3' })).toBe(false);
    expect(m(p, { source: 'aws.s3', metricName: 'ReadLatency' })).toBe(false);
  });

  it('nests, with AND inside a branch and at any depth', () => {
    const p: EventPattern = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
      ],
      detail: { $or: [{ source: ['a'] }, { 'detail-type': ['b'] }] },
    };
    const base = { source: 'aws.cloudwatch', detail: { 'detail-type': 'b' } };
    expect(m(p, { ...base, metricName: 'CPUUtilization' })).toBe(true);
    expect(m(p, { ...base, metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 })).toBe(true);
    expect(m(p, { ...base, metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: '1000' })).toBe(false);
    expect(m(p, { ...base, metricType: 'MetricType', spaceId: 1000 })).toBe(false);
    expect(m(p, { ...base, detail: { source: 'c' }, metricName: 'CPUUtilization' })).toBe(false);
  });
});

describe('the documented complex example', () => {
  const p = {
    time: [{ prefix: '2017-10-02' }],
    detail: {
      state: [{ 'anything-but': 'initializing' }],
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ 'anything-but': [100, 200, 300] }],
      'source-ip': [{ cidr: '10.0.0.0/8' }],
    },
  };
  it('matches the sample event and fails on any one field', () => {
    expect(validatePattern(p)).toEqual([]);
    expect(m(p)).toBe(true);
    expect(m(p, withDetail({ 'x-limit': 300 }))).toBe(false);
    expect(m(p, { ...ec2, time: '2017-10-03T00:00:00Z' })).toBe(false);
  });
});

describe('explainMismatch', () => {
  const ecr = { source: ['aws.ecr'], detail: { result: ['SUCCESS'], 'image-tag': [{ prefix: 'v' }] } };
  it('is undefined for a match', () => {
    expect(explainMismatch(ecr, { source: 'aws.ecr', detail: { result: 'SUCCESS', 'image-tag': 'v1' } })).toBeUndefined();
  });

  it('names the field, its value and what was expected', () => {
    expect(explainMismatch(ecr, { source: 'aws.ecr', detail: { result: 'FAILURE', 'image-tag': 'v1' } })).toBe('detail.result is "FAILURE", expected one of ["SUCCESS"]');
    expect(explainMismatch(ecr, { source: 'aws.ecr', detail: { result: 'SUCCESS', 'image-tag': 'latest' } })).toBe('detail.image-tag is "latest", expected to match [{"prefix":"v"}]');
    expect(explainMismatch(ecr, { source: 'aws.ecr', detail: { result: 'SUCCESS' } })).toBe('detail.image-tag is missing, expected to match [{"prefix":"v"}]');
    expect(explainMismatch({ n: [5] }, { n: '5' })).toBe('n is "5", expected one of [5]');
  });

  it('points into the closest element of an event array', () => {
    const event = { d: [{ a: 'x' }, { a: 'target', b: 'lost' }] };
    expect(explainMismatch({ d: { a: ['target'], b: ['found'] } }, event)).toBe('d[1].b is "lost", expected one of ["found"]');
  });

  it('scores how close an event came', () => {
    const e = evaluatePattern(ecr, { source: 'aws.ecr', detail: { result: 'FAILURE', 'image-tag': 'v1' } });
    expect(e).toMatchObject({ matches: false, matched: 2, total: 3 });
  });
});

describe('validatePattern', () => {
  const problems = (p: unknown) => validatePattern(p).join('\n');
  it('accepts every documented form', () => {
    const p = {
      a: ['x', 1, true, null, ''],
      b: [{ prefix: 'x' }, { prefix: { 'equals-ignore-case': 'x' } }, { suffix: 'x' }, { suffix: { 'equals-ignore-case': 'x' } }, { 'equals-ignore-case': 'x' }],
      c: [{ 'anything-but': 'x' }, { 'anything-but': 1 }, { 'anything-but': ['x', 'y'] }, { 'anything-but': [1, 2] }, { 'anything-but': { prefix: 'x' } }],
      d: [{ 'anything-but': { suffix: 'x' } }, { 'anything-but': { 'equals-ignore-case': ['x'] } }, { 'anything-but': { wildcard: '*/lib/*' } }],
      e: [{ numeric: ['>', 0, '<=', 5] }, { numeric: ['=', 3.018e2] }, { exists: false }, { wildcard: 'a*b\\*c\\\\' }, { cidr: '10.0.0.0/24' }, { cidr: '2001:db8::/32' }],
      $or: [{ f: ['1'] }, { g: { h: ['2'] } }],
    };
    expect(validatePattern(p)).toEqual([]);
  });

  it('rejects a leaf that is not a list', () => {
    expect(problems({ source: 'aws.ec2' })).toMatch(/^source: must be a list of values \(e\.g\. \["aws\.ec2"\]\)/);
    expect(problems({ detail: { n: 5 } })).toMatch(/^detail\.n: must be a list/);
    expect(problems({ a: [] })).toMatch(/^a: an empty list matches nothing/);
    expect(problems({ a: [['x']] })).toMatch(/^a\[0\]: .*nested list/);
  });

  it('rejects unknown operators and malformed operator objects', () => {
    expect(problems({ a: [{ contains: 'x' }] })).toMatch(/^a\[0\]: unknown operator "contains"/);
    expect(problems({ a: [{ prefix: 'x', suffix: 'y' }] })).toMatch(/exactly one key/);
    expect(problems({ a: [{ prefix: 1 }] })).toMatch(/^a\[0\]: prefix takes a string/);
    expect(problems({ a: [{ exists: 'yes' }] })).toMatch(/exists takes true or false/);
  });

  it('rejects numeric with bad operands', () => {
    expect(problems({ a: [{ numeric: ['>', '5'] }] })).toMatch(/operand "5" must be a number/);
    expect(problems({ a: [{ numeric: ['~', 5] }] })).toMatch(/unknown operator "~"/);
    expect(problems({ a: [{ numeric: ['<', 5, '>', 1] }] })).toMatch(/lower bound first/);
    expect(problems({ a: [{ numeric: ['=', 5, '<', 7] }] })).toMatch(/lower bound first/);
    expect(problems({ a: [{ numeric: ['>', 5, '<', 1] }] })).toMatch(/range is empty/);
    expect(problems({ a: [{ numeric: ['>', 1, '<'] }] })).toMatch(/takes \[op, number\]/);
    expect(problems({ a: [{ numeric: 5 }] })).toMatch(/takes \[op, number\]/);
  });

  it('rejects anything-but forms EventBridge refuses', () => {
    expect(problems({ a: [{ 'anything-but': null }] })).toMatch(/anything-but takes a string/);
    expect(problems({ a: [{ 'anything-but': ['x', 1] }] })).toMatch(/all strings or all numbers/);
    expect(problems({ a: [{ 'anything-but': { prefix: 5 } }] })).toMatch(/prefix takes a string/);
    expect(problems({ a: [{ 'anything-but': { numeric: ['>', 1] } }] })).toMatch(/does not support "numeric"/);
  });

  it('rejects bad wildcards, CIDR blocks, $or and empty patterns', () => {
    expect(problems({ a: [{ wildcard: 'a**b' }] })).toMatch(/consecutive "\*"/);
    expect(problems({ a: [{ wildcard: 'a\\b' }] })).toMatch(/may only escape/);
    expect(problems({ a: [{ cidr: '10.0.0.0/33' }] })).toMatch(/cidr takes an IPv4 or IPv6 block/);
    expect(problems({ a: [{ cidr: '10.0.0' }] })).toMatch(/cidr takes/);
    expect(problems({ $or: [{ a: ['x'] }] })).toMatch(/^\$or: needs at least two/);
    expect(problems({ $or: [{ a: 'x' }, { b: ['y'] }] })).toMatch(/^a: must be a list/);
    expect(problems({})).toMatch(/empty/);
    expect(problems(['x'])).toMatch(/must be a JSON object/);
  });
});
