// The generator's random source: eval's splitmix32 (PlantRng), with the draws the grammar needs.
import { PlantRng, fnv1a } from '@seed-diffusion/eval';

export class TaskRng {
  private readonly r: PlantRng;
  constructor(seed: number | string) {
    this.r = new PlantRng(typeof seed === 'number' ? seed >>> 0 : fnv1a(seed));
  }
  next(): number {
    return this.r.next();
  }
  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.r.int(hi - lo + 1);
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('TaskRng.pick: empty list');
    return xs[this.r.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.r.next() < p;
  }
}

/**
 * Uniform in [0, 1) from a string alone: split membership that depends only on the seed and the key.
 * FNV-1a alone is not enough: a change in a string's last characters (the constant of `n + 6` vs
 * `n + 7`) barely moves its high bits, so every constant of a primitive landed in the same split;
 * murmur3's finaliser spreads each input bit over the whole word.
 */
export function unitHash(text: string): number {
  let h = fnv1a(text);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}
