import type { DeliveryStore } from '../../lambdas/lib/ports.js';

/**
 * The delivery store's contract in memory (the DynamoDB one is tested against dynalite in
 * test/integration/delivery-store.test.ts): claimed unless done or held under an unexpired lease.
 */
export function memoryDeliveries(): DeliveryStore & { items: Map<string, { status: 'pending' | 'failed' | 'done'; attempt: string; leaseUntil: number }> } {
  const items = new Map<string, { status: 'pending' | 'failed' | 'done'; attempt: string; leaseUntil: number }>();
  const k = (source: string, id: string) => `${source}#${id}`;
  return {
    items,
    async claim(d) {
      const it = items.get(k(d.source, d.deliveryId));
      if (it?.status === 'done') return { claimed: false, status: 'done' };
      if (it?.status === 'pending' && it.leaseUntil >= d.nowMs) return { claimed: false, status: 'pending', leaseUntil: it.leaseUntil };
      items.set(k(d.source, d.deliveryId), { status: 'pending', attempt: d.attempt, leaseUntil: d.nowMs + d.leaseMs });
      return { claimed: true };
    },
    async complete(d) {
      const it = items.get(k(d.source, d.deliveryId));
      if (it) it.status = 'done';
    },
    async release(d) {
      const it = items.get(k(d.source, d.deliveryId));
      if (it?.status === 'pending' && it.attempt === d.attempt) it.status = 'failed';
    },
  };
}
