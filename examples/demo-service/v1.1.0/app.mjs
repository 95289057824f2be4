// The demo service, v1.1.0: adds order totals, but reads a price table it never ships,
// so /api/orders fails while /health still answers. Dev only checks /health; staging's
// smoke tests catch it.
const orders = [
  { id: 'o-1001', item: 'coffee beans', quantity: 2 },
  { id: 'o-1002', item: 'filter papers', quantity: 1 },
];
const prices = undefined;

export async function fetch(request, env) {
  const { pathname } = new URL(request.url);
  if (pathname === '/health') return Response.json({ ok: true, version: env.version });
  if (pathname === '/api/orders') {
    try {
      const withTotals = orders.map((o) => ({ ...o, total: prices[o.item] * o.quantity }));
      return Response.json({ status: 'ok', orders: withTotals });
    } catch (err) {
      return Response.json({ status: 'error', message: String(err) }, { status: 500 });
    }
  }
  return new Response('not found', { status: 404 });
}
