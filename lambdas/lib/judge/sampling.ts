/** Seeded sampling for simulations: the planner (`plan.ts`), the judge's benchmark and its property tests draw from the same generators. */

export type Rng = () => number;

/** sfc32 seeded through splitmix32. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return ((t >>> 0) + 0.5) / 4294967296;
  };
}

export function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function logGamma(x: number): number {
  let shift = 0;
  while (x < 8) shift -= Math.log(x++);
  const x2 = 1 / (x * x);
  return shift + (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + (1 / x) * (1 / 12 - x2 * (1 / 360 - x2 / 1260));
}

/** Poisson: Knuth below 30, Hörmann's PTRS above. */
export function poisson(lambda: number, u: Rng): number {
  if (lambda <= 0) return 0;
  if (lambda < 30) {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = u();
    while (p > l) {
      k++;
      p *= u();
    }
    return k;
  }
  const sl = Math.sqrt(lambda);
  const b = 0.931 + 2.53 * sl;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const uu = u() - 0.5;
    const v = u();
    const us = 0.5 - Math.abs(uu);
    const k = Math.floor(((2 * a) / us + b) * uu + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -lambda + k * Math.log(lambda) - logGamma(k + 1)) return k;
  }
}

/** Binomial by geometric skips: O(n·p) expected. */
export function binomial(n: number, p: number, u: Rng): number {
  if (p <= 0 || n <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, u);
  const logQ = Math.log1p(-p);
  let x = 0;
  let pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(u()) / logQ) + 1;
    if (pos > n) return x;
    x++;
  }
}

/**
 * Standard normal draws from one generator (Box–Muller, its spare kept per generator, so that one
 * run's draws do not depend on the run before it in the same process).
 */
export function gaussian(u: Rng): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}
