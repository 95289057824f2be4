// The demo service, v1.1.0: adds order totals, but reads a price table it never ships,
// so /api/orders fails while /health still answers. Dev only checks /health; staging's
// smoke tests catch it.
const orders = [
  { id: 'o-1001', item: 'coffee beans', quantity: 2 },
  { id: 'o-1002', item: 'filter papers', quantity: 1 },
];
const prices = undefined;

// The orders live in an upstream store: a read waits on it (log-normal, median 12 ms), which is
// what the canary's latency judge sees, far above the microseconds of in-process scheduling.
const upstream = () => {
  const gaussian = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  return new Promise((resolve) => setTimeout(resolve, 12 * Math.exp(0.35 * gaussian)));
};

export async function fetch(request, env) {
  const { pathname } = new URL(request.url);
  if (pathname === '/health') return Response.json({ ok: true, version: env.version });
  if (pathname === '/api/orders') {
    await upstream();
    try {
      const withTotals = orders.map((o) => ({ ...o, total: prices[o.item] * o.quantity }));
      return Response.json({ status: 'ok', orders: withTotals });
    } catch (err) {
      return Response.json({ status: 'error', message: String(err) }, { status: 500 });
    }
  }
  return new Response('not found', { status: 404 });
}
