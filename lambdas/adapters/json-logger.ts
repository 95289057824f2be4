import type { Logger } from '../lib/ports.js';

/** One JSON object per line: what CloudWatch Logs Insights queries best. */
export function jsonLogger(base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  const emit = (level: string) => (message: string, data?: Record<string, unknown>) =>
    write(JSON.stringify({ level, time: new Date().toISOString(), message, ...base, ...data }));
  return { info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR') };
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
