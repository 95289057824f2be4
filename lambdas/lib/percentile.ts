/** The nearest-rank q-quantile (0 < q ≤ 1) of values sorted ascending; the list must not be empty. */
export function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
