// Shared test helpers: seeded random inputs and error measures against float64 references.
import { Backend, CpuBackend, availableBackends } from '../lib';

/** Mulberry32: small, fast, seeded; enough for test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` values uniform in [-scale, scale) — never zeros, fresh per seed. */
export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** max |a - b| / max(1, |b|), elementwise: a relative error that tolerates values near 0. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

/**
 * The backends this machine runs (CPU addon and/or WASM), each named for describe.each. The CPU
 * backend appears once per kernel variant this CPU runs ("cpu" is the one chosen at load, then
 * "cpu/avx2", "cpu/base", ...), so every parity test covers every variant the machine can run;
 * the variants it cannot run are reported as skipped by isa.test.ts.
 */
export function backends(): [string, Backend][] {
  const list = availableBackends();
  if (list.length === 0) throw new Error('no backend built: run `pnpm --filter @seed-diffusion/native build`');
  const out: [string, Backend][] = [];
  for (const b of list) {
    out.push([b.name, b]);
    if (b instanceof CpuBackend)
      for (const isa of [...b.isaSupported].reverse())
        if (isa !== b.isa) out.push([`cpu/${isa}`, new CpuBackend(b.addon, isa)]);
  }
  return out;
}

/** `n` random ints in [lo, hi). */
export function randInt(n: number, seed: number, lo: number, hi: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo)));
}

/** max |a - b| elementwise. */
export function maxAbsErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Checks an analytic gradient against central finite differences of the scalar `f` in
 * float64, at up to `count` coordinates of x (all of them for small x). Returns the
 * largest |fd - grad| / max(1, |grad|).
 */
export function fdError(
  f: (x: Float64Array) => number,
  x: ArrayLike<number>,
  grad: ArrayLike<number>,
  count = 40,
  seed = 7,
  h = 1e-5,
): number {
  const xs = Float64Array.from(x);
  const r = rng(seed);
  const idx = xs.length <= count ? [...xs.keys()] : Array.from({ length: count }, () => Math.floor(r() * xs.length));
  let worst = 0;
  for (const i of idx) {
    const x0 = xs[i];
    xs[i] = x0 + h;
    const fp = f(xs);
    xs[i] = x0 - h;
    const fm = f(xs);
    xs[i] = x0;
    const fd = (fp - fm) / (2 * h);
    worst = Math.max(worst, Math.abs(fd - grad[i]) / Math.max(1, Math.abs(grad[i])));
  }
  return worst;
}

/** Σ a ∘ b. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The raw C kernels of a backend and its pointer mapping, to test the C layer's own validation. */
export function raw(b: Backend): { k: Record<string, (...a: unknown[]) => unknown>; ref: (t: unknown) => unknown } {
  const x = b as unknown as { k: Record<string, (...a: unknown[]) => unknown>; ref: (t: unknown) => unknown };
  return { k: x.k, ref: (t) => x.ref.call(b, t) };
}
