/**
 * A steady stream of real requests against a local endpoint, so a canary is judged on real
 * counts. Bounded: it stops when asked, or after `maxRequests`.
 */
export interface Traffic {
  stop(): Promise<{ requests: number; failures: number }>;
}

/** One request to `endpoint + path`, its body read; false when it was answered 5xx or not at all. */
async function requestOnce(endpoint: string | Promise<string>, path: string): Promise<boolean> {
  try {
    const res = await fetch((await endpoint) + path);
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

export function startTraffic(endpoint: () => Promise<string>, opts: { paths: string[]; concurrency?: number; maxRequests?: number }): Traffic {
  let running = true;
  let requests = 0;
  let failures = 0;
  const max = opts.maxRequests ?? 2_000_000;
  const worker = async () => {
    while (running && requests < max) {
      const path = opts.paths[requests % opts.paths.length]!;
      requests++;
      if (!(await requestOnce(endpoint(), path))) failures++;
    }
  };
  const workers = Array.from({ length: opts.concurrency ?? 8 }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      return { requests, failures };
    },
  };
}

/**
 * Exactly `count` real requests against a local endpoint, `concurrency` at a time, through
 * `paths` in turn; resolves once every one has been answered. How long that takes depends on
 * the machine; how many were sent does not. `failures`: answered 5xx, or not answered.
 */
export async function sendRequests(endpoint: string, count: number, opts: { paths: string[]; concurrency?: number }): Promise<{ requests: number; failures: number }> {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < count) {
      const path = opts.paths[next % opts.paths.length]!;
      next++;
      if (!(await requestOnce(endpoint, path))) failures++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 8, count)) }, worker));
  return { requests: count, failures };
}

/**
 * Requests at a steady `perSecond` against a local endpoint until stopped: request i is sent at
 * start + i / perSecond (never more than `concurrency` waiting at once), so the rate does not
 * depend on how fast the service answers.
 */
export function startPacedTraffic(endpoint: () => Promise<string>, opts: { paths: string[]; perSecond: number; concurrency?: number }): Traffic {
  let running = true;
  let sent = 0;
  let failures = 0;
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    while (running) {
      const due = t0 + (sent * 1000) / opts.perSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!running) break;
      if (inFlight.size >= (opts.concurrency ?? 256)) await Promise.race(inFlight);
      const path = opts.paths[sent % opts.paths.length]!;
      sent++;
      const one: Promise<void> = requestOnce(endpoint(), path)
        .then((ok) => void (ok || failures++))
        .finally(() => inFlight.delete(one));
      inFlight.add(one);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await Promise.all(inFlight);
      return { requests: sent, failures };
    },
  };
}
