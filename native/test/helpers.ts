// Shared test helpers: seeded random inputs and error measures against float64 references.
import { Backend, availableBackends } from '../lib';

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

/** The backends this machine runs (CPU addon and/or WASM), each named for describe.each. */
export function backends(): [string, Backend][] {
  const list = availableBackends();
  if (list.length === 0) throw new Error('no backend built: run `pnpm --filter @seed-diffusion/native build`');
  return list.map((b) => [b.name, b]);
}
