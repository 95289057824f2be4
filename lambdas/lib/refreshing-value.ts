/**
 * A value fetched once and kept, which may be fetched again on demand, but at most once per
 * `minAgeMs`: for a secret someone can change by hand (the webhook's), so that the change
 * takes effect at the next request that needs it, without letting every bad request cost a
 * fetch. A failed fetch is not kept: the next `get` tries again.
 */
export interface RefreshingValue<T> {
  get(): Promise<T>;
  /** A freshly fetched value, or undefined when the kept one is younger than `minAgeMs`. */
  refresh(): Promise<T | undefined>;
}

export function refreshingValue<T>(fetch: () => Promise<T>, minAgeMs: number, now: () => number = Date.now): RefreshingValue<T> {
  let kept: Promise<T> | undefined;
  let fetchedAt = -Infinity;
  const load = (): Promise<T> => {
    fetchedAt = now();
    const p = fetch();
    kept = p;
    p.catch(() => {
      if (kept === p) kept = undefined;
    });
    return p;
  };
  return {
    get: () => kept ?? load(),
    refresh: async () => (now() - fetchedAt < minAgeMs ? undefined : load()),
  };
}
