import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executionExitCode, NothingMatches } from '../../local/cli/cli-errors.js';
import { historyLines } from '../../local/cli/history.js';
import { statusTable } from '../../local/cli/status.js';
import { BAD_DIR, commitOf, demoConfig, startHarness, type Harness } from '../support/harness.js';

/**
 * Issue 14, on the real runtime: a null input fails at Normalise as InvalidInput; after a
 * rollback, status and history say what is true; a name that matches nothing is said so.
 * Each test releases its own service, so the tests hold in any order.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ config: demoConfig({ services: ['rolled', 'nulls', 'named', 'dup'] }) });
});
afterAll(async () => h?.close());

// Colours off: the lines are compared as a person reads them.
const plain = (lines: string[]) => lines.map((l) => l.replace(/\u001b\[\d+m/g, ''));
const release = async (service: string, version: string, environments = ['dev']) => {
  await h.publish(version, { service });
  return h.rt.startExecution('release', { service, version, commit: commitOf(version), environments }).done;
};

describe('what the CLI says is true', () => {
  it('a null input fails at Normalise with InvalidInput, in both machines (exit 2)', async () => {
    for (const machine of ['release', 'rollback'] as const) {
      const s = await h.rt.startExecution(machine, null).done;
      expect(s.status).toBe('FAILED');
      expect(s.error).toBe('InvalidInput');
      expect(s.cause).toMatch(/^\(input\): expected a JSON object/);
      expect(executionExitCode(s)).toBe(2);
    }
    const typed = await h.rt.startExecution('release', { service: 123, version: 'v1.0.0' }).done;
    expect(typed.cause).toMatch(/^service: expected a service name string, e\.g\. "checkout"; got the number 123\./);
  });

  it('after a rollback: PREVIOUS GOOD is not the version rolled back; status and history say rolled-back', async () => {
    expect((await release('rolled', 'v1.0.0')).status).toBe('SUCCEEDED');
    expect((await release('rolled', 'v1.1.0-rolled')).status).toBe('SUCCEEDED');
    const back = await h.rt.startExecution('rollback', { service: 'rolled', environment: 'dev', reason: 'pager' }).done;
    expect(back.status).toBe('SUCCEEDED');

    // The ledger itself: the suspect is known-good no more, so no later rollback returns to it.
    expect(await h.rt.deps.ledger.getEnvironment('rolled', 'dev')).toMatchObject({ version: 'v1.0.0', goodVersions: ['v1.0.0'], lastOutcome: 'rolled-back' });

    const status = plain(await statusTable(h.rt.deps.ledger, h.rt.options.config, 'rolled'));
    expect(status.find((l) => l.trimStart().startsWith('dev '))!.split(/\s+/).filter(Boolean)).toEqual(['dev', 'v1.0.0', 'healthy', '-', 'rolled-back']);
    expect(status.find((l) => l.includes('last release:'))).toMatch(/last release: v1\.1\.0-rolled .* — rolled-back: succeeded at \S+, then rolled back in dev: rolled dev back from v1\.1\.0-rolled to v1\.0\.0 — manual rollback: pager$/);

    const history = plain(await historyLines(h.rt.deps.ledger, 'rolled', 'v1.1.0-rolled'));
    expect(history[0]).toMatch(/^v1\.1\.0-rolled {2}rolled-back {2}/);
    expect(history[1]).toMatch(/^ {2}succeeded at .*, then rolled back in dev: rolled dev back from v1\.1\.0-rolled to v1\.0\.0/);
    expect(plain(await historyLines(h.rt.deps.ledger, 'rolled', 'v1.0.0'))[0]).toMatch(/^v1\.0\.0 {2}succeeded {2}/);
  });

  it('status --service and history --service/--version that match nothing say so, with the name meant', async () => {
    expect((await release('named', 'v2.0.0')).status).toBe('SUCCEEDED');
    const { ledger } = h.rt.deps;
    const config = h.rt.options.config;
    await expect(statusTable(ledger, config, 'namd')).rejects.toThrow(NothingMatches);
    await expect(statusTable(ledger, config, 'namd')).rejects.toThrow(/^--service namd: no such service; did you mean --service named\? \(services in the config and the ledger: /);
    await expect(historyLines(ledger, 'named', 'v9.9.9')).rejects.toThrow(/^--version v9\.9\.9: no such release \(releases of named: v2\.0\.0\)$/);
    await expect(historyLines(ledger, 'named', 'v2.0.1')).rejects.toThrow(/^--version v2\.0\.1: no such release; did you mean --version v2\.0\.0\?/);
    await expect(historyLines(ledger, 'namd', undefined, config)).rejects.toThrow(/^--service namd: no such service; did you mean --service named\?/);
    // A configured service with no releases yet is no mistake.
    expect(await historyLines(ledger, 'nulls', undefined, config)).toEqual(['no releases of nulls yet']);
    await expect(historyLines(ledger, 'nulls', 'v1.0.0', config)).rejects.toThrow(/^--version v1\.0\.0: no such release \(there are no releases of nulls\)$/);
  });

  it('a duplicate of a release that did not succeed exits 1, of one that did 0', async () => {
    await h.publish('v3.0.0', { service: 'dup', dir: BAD_DIR });
    const failed = await h.rt.startExecution('release', { service: 'dup', version: 'v3.0.0', commit: commitOf('v3.0.0'), environments: ['dev', 'staging'] }).done;
    expect(failed.status).toBe('FAILED');
    expect(executionExitCode(failed)).toBe(1);
    const again = await h.rt.startExecution('release', { service: 'dup', version: 'v3.0.0' }).done;
    expect(again.status).toBe('SUCCEEDED');
    expect(executionExitCode(again)).toBe(1);

    expect((await release('dup', 'v3.1.0')).status).toBe('SUCCEEDED');
    expect(executionExitCode(await h.rt.startExecution('release', { service: 'dup', version: 'v3.1.0' }).done)).toBe(0);
  });
});
