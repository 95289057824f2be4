import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { ConfigError } from '../../lambdas/lib/errors.js';
import { SAMPLE_POLICY } from '../support/policy.js';

/** The `policy` part of the pipeline config: every mistake names its field and says what to do. */

const withPolicy = (policy: unknown) => ({ ...JSON.parse(readFileSync('examples/tagflow.config.json', 'utf8')), policy });
const problems = (policy: unknown) => {
  try {
    parseConfig(withPolicy(policy));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected ConfigError');
};
const GOOD = SAMPLE_POLICY;

describe('policy config', () => {
  it('is optional, and parses the documented example with its defaults', () => {
    expect(parseConfig(JSON.parse(readFileSync('examples/tagflow.config.json', 'utf8'))).policy).toBeUndefined();
    expect(parseConfig(withPolicy({ approvers: ['alice', 'bob'] })).policy).toEqual({ timezone: 'UTC', windows: [], freezes: [], approvers: ['alice', 'bob'], githubLogins: {}, maxWaitHours: 72, approvalTimeoutHours: 24 });
    expect(parseConfig(withPolicy(GOOD)).policy).toEqual({ ...GOOD, githubLogins: {} });
  });

  it('names a time zone Intl does not know, with the likely one', () => {
    expect(problems({ ...GOOD, timezone: 'Europe/Berln' })).toEqual([{ field: 'policy.timezone', problem: '"Europe/Berln" is not an IANA time zone; did you mean "Europe/Berlin"?' }]);
  });

  it('names bad times, days, a window that ends before it starts, and a freeze backwards', () => {
    const found = problems({
      ...GOOD,
      windows: [{ environments: ['prod'], days: ['monday'], from: '9:00', to: '16:00' }, { environments: ['prod'], days: ['sat'], from: '16:00', to: '09:00' }],
      freezes: [{ name: 'x', from: '2027-01-04T00:00:00Z', to: '2026-12-21T00:00:00Z' }, { name: 'y', from: '2026-12-21', to: '2027-01-04T00:00:00Z' }],
    });
    const fields = found.map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['policy.windows[0].days[0]', 'policy.windows[0].from', 'policy.windows[1].to', 'policy.freezes[0].to', 'policy.freezes[1].from']));
    expect(found.find((p) => p.field === 'policy.windows[1].to')!.problem).toContain('split it in two');
    expect(found.find((p) => p.field === 'policy.freezes[1].from')!.problem).toContain('ISO 8601 time with a zone');
  });

  it('names environments no service has', () => {
    expect(problems({ ...GOOD, windows: [{ ...GOOD.windows[0], environments: ['production'] }] })).toEqual([
      { field: 'policy.windows[0].environments[0]', problem: 'no service has an environment "production"; environments: dev, staging, prod' },
    ]);
  });

  it('refuses one approver (two different ones must approve) and a repeated one, but allows none', () => {
    expect(problems({ ...GOOD, approvers: ['alice'] })[0]).toMatchObject({ field: 'policy.approvers', problem: expect.stringContaining('list at least 2, or none') });
    expect(problems({ ...GOOD, approvers: ['alice', 'alice', 'bob'] })).toEqual([{ field: 'policy.approvers[1]', problem: '"alice" appears twice; each approver counts once' }]);
    expect(parseConfig(withPolicy({ ...GOOD, approvers: [] })).policy!.approvers).toEqual([]);
  });

  it('takes approvers as IAM users and IAM Identity Center sessions of one account, refusing names anyone can choose', () => {
    const alice = 'arn:aws:iam::111122223333:user/alice';
    const bob = 'arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Approvers_0123456789abcdef/bob@acme.io';
    expect(parseConfig(withPolicy({ ...GOOD, approvers: [alice, bob], githubLogins: { [alice]: 'alice-gh' } })).policy!.approvers).toEqual([alice, bob]);
    expect(problems({ ...GOOD, approvers: [alice, 'arn:aws:sts::111122223333:assumed-role/Deployer/bob'] })).toEqual([
      { field: 'policy.approvers[1]', problem: expect.stringContaining('chosen by whoever assumes the role') },
    ]);
    expect(problems({ ...GOOD, approvers: [alice, 'arn:aws:sts::111122223333:federated-user/bob'] })[0]!.problem).toContain('federated user');
    expect(problems({ ...GOOD, approvers: [alice, 'arn:aws:iam::999999999999:user/carol'] })).toEqual([{ field: 'policy.approvers', problem: expect.stringContaining('accounts 111122223333, 999999999999') }]);
    expect(problems({ ...GOOD, approvers: [alice, bob], githubLogins: { 'arn:aws:iam::111122223333:user/zed': 'zed' } })).toEqual([{ field: 'policy.githubLogins.arn:aws:iam::111122223333:user/zed', problem: expect.stringContaining('not in policy.approvers') }]);
  });

  it('refuses waits that cannot fit in the release machine\'s timeout', () => {
    const found = problems({ ...GOOD, maxWaitHours: 168, freezes: [{ name: 'all', from: '2026-12-21T00:00:00Z', to: '2027-01-04T00:00:00Z' }] });
    expect(found).toEqual([{ field: 'policy.maxWaitHours', problem: expect.stringContaining('a release of demo could wait 168 h in each of its 3 gated environments (dev, staging, prod), 504 h in all') }]);
  });

  it('suggests the field for a typo', () => {
    expect(problems({ ...GOOD, aprovers: ['a', 'b'] })[0]).toEqual({ field: 'policy.aprovers', problem: 'unknown field; did you mean "approvers"?' });
  });
});
