import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lambdas/lib/config.js';
import { ConfigError, type FieldIssue } from '../../lambdas/lib/errors.js';
import { parseManualRelease } from '../../lambdas/lib/input.js';
import { CliInputError, exitCodeOf } from '../../local/cli/cli-errors.js';
import { loadConfigFile } from '../../local/cli/config-file.js';

/** Issue 14: every config and input error names its field and says what was expected, all at once. */

const problems = (raw: unknown): FieldIssue[] => {
  try {
    parseConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected ConfigError');
};
const service = (extra: Record<string, unknown> = {}) => ({ environments: [{ name: 'dev' }], ...extra });

describe('config errors name the field', () => {
  it('a smoke check (a union of http and invoke) names the field of the alternative meant, not "Invalid input"', () => {
    const raw = { services: { api: service({ environments: [{ name: 'dev', smoke: [{ path: '/health', expectStatus: '200' }] }] }) } };
    expect(problems(raw)).toEqual([
      { field: 'services.api.environments[0].smoke[0].name', problem: 'is required (expected a string)' },
      { field: 'services.api.environments[0].smoke[0].expectStatus', problem: 'expected a number; got the string "200"' },
    ]);
  });

  it('an invoke check is judged as one (its type chose it)', () => {
    const raw = { services: { api: service({ environments: [{ name: 'dev', smoke: [{ name: 'ping', type: 'invoke', retries: 'two' }] }] }) } };
    expect(problems(raw)).toEqual([{ field: 'services.api.environments[0].smoke[0].retries', problem: 'expected a number; got the string "two"' }]);
  });

  it('a number out of range says the bound and the value', () => {
    const raw = { services: { api: service({ environments: [{ name: 'dev', canary: { pollSeconds: 2, maxBakeSeconds: 60 } }] }) } };
    expect(problems(raw)).toContainEqual({ field: 'services.api.environments[0].canary.pollSeconds', problem: 'expected a number at least 5; got 2' });
  });

  it('refuses a config with no services', () => {
    expect(problems({ services: {} })).toEqual([{ field: 'services', problem: expect.stringContaining('no services: add at least one') }]);
  });

  it('refuses two services fed by the same repository (GitHub names ignore case), naming the second', () => {
    const raw = { services: { a: service({ triggers: { github: 'acme/shop', ecr: 'shop' } }), b: service({ triggers: { github: 'Acme/Shop' } }), c: service({ triggers: { ecr: 'shop' } }) } };
    expect(problems(raw)).toEqual([
      { field: 'services.b.triggers.github', problem: expect.stringContaining('"Acme/Shop" already feeds service "a"') },
      { field: 'services.c.triggers.ecr', problem: expect.stringContaining('"shop" already feeds service "a"') },
    ]);
  });

  it('checks shared repositories even when another part of the config is wrong', () => {
    const raw = { services: { a: service({ triggers: { github: 'acme/shop' } }), b: { triggers: { github: 'acme/shop' }, environments: 'dev' } } };
    expect(problems(raw).map((i) => i.field)).toEqual(['services.b.environments', 'services.b.triggers.github']);
  });

  it('refuses a service key that cannot be a name, saying what a name is', () => {
    expect(problems({ services: { 'Check Out': service() } })).toEqual([
      { field: 'services."Check Out"', problem: expect.stringMatching(/^"Check Out" is not a valid name here: a service name is lower-case letters, digits and dashes/) },
    ]);
  });

  it('reports every policy error in one run: the schema, the approvers and the environment names', () => {
    const raw = {
      services: { api: service() },
      policy: { timezone: 'Europe/Berln', approvers: ['alice'], windows: [{ environments: ['prd'], days: ['mon'], from: '10:00', to: '09:00' }] },
    };
    expect(problems(raw)).toEqual(
      expect.arrayContaining([
        { field: 'policy.timezone', problem: expect.stringContaining('did you mean "Europe/Berlin"?') },
        { field: 'policy.windows[0].to', problem: expect.stringContaining('from must be before to') },
        { field: 'policy.approvers', problem: expect.stringContaining('needs 2 different approvers') },
        { field: 'policy.windows[0].environments[0]', problem: expect.stringContaining('no service has an environment "prd"') },
      ]),
    );
    expect(problems(raw)).toHaveLength(4);
  });

  it('never calls an environment unknown because its service is wrong elsewhere', () => {
    const raw = { services: { api: { environments: [{ name: 'prod', smoke: 'none' }] } }, policy: { windows: [{ environments: ['prod'], days: ['mon'], from: '09:00', to: '17:00' }] } };
    expect(problems(raw).map((i) => i.field)).toEqual(['services.api.environments[0].smoke']);
  });
});

describe('manual input errors say what was wrong with the value', () => {
  const messageOf = (input: unknown) => {
    try {
      parseManualRelease(input);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected InvalidInput');
  };

  it('a number where a string belongs is "expected a string", not "is required"', () => {
    expect(messageOf({ service: 123, version: 'v1.0.0' })).toMatch(/^service: expected a service name string, e\.g\. "checkout"; got the number 123\./);
    expect(messageOf({ version: 'v1.0.0' })).toMatch(/^service: is required/);
  });
});

describe('the config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tagflow-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a folder given as --config is refused with the file to pass instead (exit 2)', () => {
    const err = (() => {
      try {
        loadConfigFile(dir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CliInputError);
    expect((err as Error).message).toBe(`--config ${dir} is a folder; pass the config file itself, e.g. --config ${dir}/tagflow.config.json`);
    expect(exitCodeOf(err)).toBe(2);
  });

  it('a missing file and a bad field both exit 2', () => {
    expect(exitCodeOf(catching(() => loadConfigFile(join(dir, 'nope.json'))))).toBe(2);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ services: {} }));
    const err = catching(() => loadConfigFile(bad));
    expect(err).toBeInstanceOf(ConfigError);
    expect(exitCodeOf(err)).toBe(2);
  });

  it('accepts a UTF-8 byte order mark', () => {
    const bom = join(dir, 'bom.json');
    writeFileSync(bom, `\uFEFF${JSON.stringify({ services: { api: service() } })}`);
    expect(Object.keys(loadConfigFile(bom).services)).toEqual(['api']);
  });
});

function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('supplyChain errors name the field (issue 17)', () => {
  it('per service: every wrong field at once, with what is expected', () => {
    const raw = { services: { api: service({ supplyChain: { signatures: 'yes', sbom: 'maybe', maxSeverity: { critical: -1, severe: 1 }, allow: [{ id: 'CVE-2024-1', expires: 'soon' }] } }) } };
    expect(problems(raw)).toEqual(
      expect.arrayContaining([
        { field: 'services.api.supplyChain.signatures', problem: 'expected "required" (builds must be signed by the pipeline\'s key) or "off"' },
        { field: 'services.api.supplyChain.sbom', problem: 'expected "required", "optional" (checked when present) or "off"' },
        { field: 'services.api.supplyChain.maxSeverity.critical', problem: 'expected a number at least 0; got -1' },
        { field: 'services.api.supplyChain.maxSeverity.severe', problem: 'unknown field; allowed fields here: critical, high, medium, low' },
        { field: 'services.api.supplyChain.allow[0].expires', problem: 'a date such as "2027-01-31": an allowance must end' },
        { field: 'services.api.supplyChain.allow[0].reason', problem: 'is required (expected a string)' },
      ]),
    );
  });

  it('a top-level default that requires provenance names the service that then trusts no builder', () => {
    expect(problems({ supplyChain: { provenance: 'required' }, services: { api: service() } })).toEqual([
      { field: 'services.api.supplyChain.builders', problem: 'provenance is "required" but no builder is trusted: list the builder ids CI runs as (runDetails.builder.id), e.g. ["https://github.com/actions/runner"], here or in the top-level supplyChain' },
    ]);
    expect(problems({ supplyChain: { publicKey: 'abc' }, services: { api: service() } })).toEqual([{ field: 'supplyChain.publicKey', problem: 'a PEM public key ("-----BEGIN PUBLIC KEY-----…")' }]);
  });
});
