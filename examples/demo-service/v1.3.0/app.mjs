// The demo service, v1.3.0: v1.0.0's orders API with v1.2.0's stock check taken out and the
// upstream timeouts fixed (the reads now wait on a pool sized for them): no order read fails.
// Its latency is v1.0.0's. Prod's canary shows it within its margins at each step and promotes it.
const UPSTREAM_ERROR_RATE = 0;
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
