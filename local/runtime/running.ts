import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineName } from './asl.js';

/**
 * Which process runs which local execution: one file per running execution under
 * `<data>/running/`, written when it starts and removed once it ended and was reconciled. A
 * file whose process is gone (kill -9, a closed laptop lid that never woke the process, a
 * crash) names an execution nobody will finish: the next command reconciles it.
 */
export interface RunningEntry {
  executionArn: string;
  machine: MachineName;
  name: string;
  pid: number;
  startedAt: string;
}

/** Whether a process is alive: signal 0 checks without sending anything (EPERM: alive, someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class RunningRegistry {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'running');
  }

  private path(name: string): string {
    return join(this.dir, `${name}.json`);
  }

  add(entry: RunningEntry): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.path(entry.name), JSON.stringify(entry, null, 2));
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }

  entries(): RunningEntry[] {
    if (!existsSync(this.dir)) return [];
    const out: RunningEntry[] = [];
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort()) {
      try {
        const e = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as RunningEntry;
        if (typeof e.executionArn === 'string' && typeof e.pid === 'number' && typeof e.name === 'string') out.push(e);
      } catch {
        // A file cut short by the crash it records: nothing to reconcile from it.
      }
    }
    return out;
  }

  find(executionArn: string): RunningEntry | undefined {
    return this.entries().find((e) => e.executionArn === executionArn);
  }
}
