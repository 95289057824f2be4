// The demo service, v1.2.0: adds a stock check before each order read. The check retries
// a flaky inventory call without backoff and fails 5% of reads: five times v1.0.0's rate.
// Smoke tests pass (the endpoint mostly works); the canary judge catches it in prod.
const UPSTREAM_ERROR_RATE = 0.05;
const orders = [
  { id: 'o-1001', item: 'coffee beans', quantity: 2 },
  { id: 'o-1002', item: 'filter papers', quantity: 1 },
];

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
    if (Math.random() < UPSTREAM_ERROR_RATE) return Response.json({ status: 'error', message: 'upstream timeout' }, { status: 503 });
    return Response.json({ status: 'ok', orders });
  }
  return new Response('not found', { status: 404 });
}
