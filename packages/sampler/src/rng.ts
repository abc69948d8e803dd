// Seeded uniforms for sampling: same seed => same draws => same output, in every mode.

/** Mulberry32: a small, fast 32-bit generator; good enough for inverse-CDF token sampling. */
export class Uniforms {
  private s: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0)
      throw new RangeError(`Uniforms: seed must be an integer >= 0, got ${seed}`);
    // Mix the seed once so that nearby seeds give unrelated streams.
    this.s = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** One value in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** n values in [0, 1) as float32 (clamped below 1 after rounding, which the kernel requires). */
  fill(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.min(Math.fround(this.next()), 0.99999994);
    return out;
  }
}
