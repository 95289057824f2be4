/**
 * A steady stream of real requests against a local endpoint, so a canary is judged on real
 * counts. Bounded: it stops when asked, or after `maxRequests`.
 */
export interface Traffic {
  stop(): Promise<{ requests: number; failures: number }>;
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
      try {
        const res = await fetch((await endpoint()) + path);
        await res.arrayBuffer();
        if (res.status >= 500) failures++;
      } catch {
        failures++;
      }
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
