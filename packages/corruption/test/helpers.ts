import { Rng } from '../src';

/** Random ids in [lo, hi) for batch·len positions. */
export function randomIds(rng: Rng, n: number, lo: number, hi: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + rng.int(hi - lo);
  return out;
}
