import { vi } from 'vitest';
import { main } from '../../local/cli/main.js';

const strip = (s: string) => s.replace(/\u001b\[\d+m/g, '');

/**
 * Runs `tagflow ARGS --config CONFIG --data-dir DATA_DIR` in-process, as a person would at a
 * terminal: the exit code, and what it printed to stdout (colours stripped), as lines and as text.
 */
export async function runTagflow(args: string[], at: { config: string; dataDir: string }): Promise<{ code: number; out: string; lines: string[] }> {
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(strip(a.join(' '))));
  try {
    const code = await main([...args, '--config', at.config, '--data-dir', at.dataDir]);
    return { code, out: lines.join('\n'), lines };
  } finally {
    log.mockRestore();
  }
}
