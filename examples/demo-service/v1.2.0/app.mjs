// The demo service, v1.2.0: adds a stock check before each order read. The check retries
// a flaky inventory call without backoff and fails 5% of reads: five times v1.0.0's rate.
// Smoke tests pass (the endpoint mostly works); the canary judge catches it in prod.
const UPSTREAM_ERROR_RATE = 0.05;
const orders = [
  { id: 'o-1001', item: 'coffee beans', quantity: 2 },
  { id: 'o-1002', item: 'filter papers', quantity: 1 },
];

export async function fetch(request, env) {
  const { pathname } = new URL(request.url);
  if (pathname === '/health') return Response.json({ ok: true, version: env.version });
  if (pathname === '/api/orders') {
    if (Math.random() < UPSTREAM_ERROR_RATE) return Response.json({ status: 'error', message: 'upstream timeout' }, { status: 503 });
    return Response.json({ status: 'ok', orders });
  }
  return new Response('not found', { status: 404 });
}
