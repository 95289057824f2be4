import type { HttpProbe, HttpResponse } from '../lib/ports.js';

/** HTTP smoke checks over the platform's fetch, with a hard timeout. */
export const fetchProbe: HttpProbe = {
  async request({ method, url, headers, body, timeoutMs }): Promise<HttpResponse> {
    const started = performance.now();
    const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const text = await res.text();
    return { status: res.status, body: text, latencyMs: Math.round(performance.now() - started) };
  },
};
