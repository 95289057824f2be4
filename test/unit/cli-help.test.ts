import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { SPEC } from '../../local/cli/arguments.js';
import { main } from '../../local/cli/main.js';

/**
 * `tagflow --help` and argument errors answer from the bin shim before TypeScript loads, and say
 * what the CLI itself says.
 */

const bin = (args: string[]) => spawnSync(process.execPath, ['local/bin/tagflow.js', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

describe('tagflow --help', () => {
  it('prints the usage main prints, from the shim, exit 0 (no arguments: exit 2)', async () => {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      expect(await main(['--help'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const help = bin(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(`${out.join('\n')}\n`);
    expect(help.stdout).toContain('tagflow plan --service S');
    const none = bin([]);
    expect(none.status).toBe(2);
    expect(none.stdout).toBe(help.stdout);
  });
});

describe('argument errors', () => {
  const cases: [string[], string][] = [
    [['statsu'], 'unknown command "statsu"; did you mean "status"?'],
    [['local', 'relase', '--service', 'x'], 'unknown command "local relase"; did you mean "local release"?'],
    [['local', 'status'], 'unknown command "local status"; did you mean "status"?'],
    [['status', '--servce', 'checkout'], 'unknown flag --servce; did you mean --service?'],
    [['status', '--version', 'v1.0.0'], 'status does not take --version; it takes --service, --train'],
    [['history'], '--service is required, e.g. --service checkout'],
    [['local', 'rollback', '--service', 'checkout'], '--environment is required, e.g. --environment prod; --reason is required, e.g. --reason "error rate up since v2.4.0"'],
    [['unfreeze'], 'unfreeze needs the NAME, e.g. tagflow unfreeze inc-4211'],
    [['unfreeze', 'a', 'b'], 'unfreeze takes no argument "b" beyond NAME'],
    [['status', '--service'], "Option '--service <value>' argument missing"],
    [['dora', '--days', 'x'], '--days "x": expected a number of days > 0, e.g. --days 30'],
    [['notes', '--service', 'demo', '--version', 'v1.3.0', '--format', 'html'], '--format must be one of text, markdown, not "html"'],
    [['notes', '--service', 'demo'], '--version is required, e.g. --version v1.4.0'],
    [['approve', '--service', 'api', '--version', 'v1', '--environment', 'prod', '--decision', 'ship'], '--decision must be one of approve, reject, promote, rollback, not "ship"'],
    [['local', 'report-tests', '--service', 'api', '--commit', 'abc', '--suite', 'unit:1'], '--suite "unit:1": expected NAME:PASSED:FAILED, e.g. --suite unit:120:0'],
  ];

  it.each(cases)('%j: one line from the shim, exit 2, the same message as main', async (args, message) => {
    const r = bin(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`error: ${message}\ntagflow --help lists every command and flag\n`);
    expect(r.stdout).toBe('');
    await expect(main(args)).rejects.toThrow(message);
  });

  it('every command the spec lists is one main runs', () => {
    const source = readFileSync(new URL('../../local/cli/main.ts', import.meta.url), 'utf8');
    for (const name of Object.keys(SPEC.commands)) expect(source, name).toContain(`case '${name}':`);
  });
});
