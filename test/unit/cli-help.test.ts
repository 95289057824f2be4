import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../local/cli/main.js';

/** `tagflow --help` answers from the bin shim before TypeScript loads, and says what the CLI itself says. */

const bin = (args: string[]) => spawnSync(process.execPath, ['local/bin/tagflow.js', ...args], { encoding: 'utf8' });

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
