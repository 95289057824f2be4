import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../lambdas/lib/errors.js';
import { parseManualRelease } from '../../lambdas/lib/input.js';

const issuesOf = (input: unknown) => {
  try {
    parseManualRelease(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInput);
    return (err as InvalidInput).issues;
  }
  throw new Error('expected InvalidInput');
};

describe('manual release input', () => {
  it('accepts the documented console input', () => {
    expect(parseManualRelease({ service: 'checkout', version: 'v2.4.0' })).toEqual({ service: 'checkout', version: 'v2.4.0' });
    expect(parseManualRelease({ service: 'checkout', version: 'v2.4.0-rc.1', environments: ['dev'], emergency: { reason: 'card outage fix' } }).emergency?.reason).toBe('card outage fix');
  });

  it('names a mistyped field and suggests the right one', () => {
    expect(issuesOf({ servce: 'api', version: 'v1.2.0' })).toEqual([
      { field: 'servce', problem: 'unknown field; did you mean "service"?' },
      { field: 'service', problem: expect.stringContaining('is required') },
    ]);
  });

  it('explains what a version must look like', () => {
    expect(issuesOf({ service: 'api', version: '1.2' })[0]).toEqual({ field: 'version', problem: expect.stringContaining('not a full semver tag') });
    expect(issuesOf({ service: 'api', version: '1.2.3' })[0]!.problem).toContain('needs a leading "v", e.g. "v1.2.3"');
    expect(issuesOf({ service: 'api', version: 5 })[0]!.problem).toContain('expected a version string');
  });

  it('checks commit, environments and service shapes', () => {
    expect(issuesOf({ service: 'Api!', version: 'v1.0.0' })[0]!.field).toBe('service');
    expect(issuesOf({ service: 'api', version: 'v1.0.0', commit: 'abc' })[0]!.field).toBe('commit');
    expect(issuesOf({ service: 'api', version: 'v1.0.0', environments: 'prod' })[0]!.field).toBe('environments');
    expect(issuesOf({ service: 'api', version: 'v1.0.0', emergency: {} })[0]!.field).toBe('emergency.reason');
  });

  it('rejects input that is not an object', () => {
    for (const bad of [null, 'api', 42, ['api']]) expect(issuesOf(bad)[0]!.field).toBe('(input)');
  });

  it('puts the message together with a valid example', () => {
    try {
      parseManualRelease({ version: 'v1.0.0' });
    } catch (err) {
      expect((err as Error).message).toContain('service: is required');
      expect((err as Error).message).toContain('{"service":"checkout","version":"v2.4.0"}');
      expect((err as Error).name).toBe('InvalidInput');
    }
  });
});
