// Seeded uniforms for sampling: same seed => same draws => same output, in every mode.

/** Mulberry32's state step; its i-th draw hashes the state after i + 1 steps. */
const STEP = 0x6d2b79f5;

/** Mulberry32's output function of a state. */
function mix(state: number): number {
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** A draw as float32, clamped below 1 after rounding (which the decode kernel requires). */
const f32Below1 = (u: number): number => Math.min(Math.fround(u), 0.99999994);

/**
 * Mulberry32: a small, fast 32-bit generator; good enough for inverse-CDF token sampling. Its
 * state advances by a constant, so draw i is also available directly (`at`, `range`): mode
 * 'verify' samples position L + i of a generation with draw i, as mode 'ar' does in order, and
 * so gives AR's sampled tokens for the same seed however many positions a forward settles.
 */
export class Uniforms {
  private readonly s0: number;
  private s: number;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0)
      throw new RangeError(`Uniforms: seed must be an integer >= 0, got ${seed}`);
    // Mix the seed once so that nearby seeds give unrelated streams.
    this.s0 = this.s = (seed ^ 0x9e3779b9) >>> 0;
  }

  /** One value in [0, 1). */
  next(): number {
    this.s = (this.s + STEP) >>> 0;
    return mix(this.s);
  }

  /** n values in [0, 1) as float32 (clamped below 1 after rounding, which the kernel requires). */
  fill(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f32Below1(this.next());
    return out;
  }

  /** Draw i (0-based) of the stream from its start, whatever has been drawn: the value next() gives the (i + 1)-th time. */
  at(i: number): number {
    if (!Number.isInteger(i) || i < 0) throw new RangeError(`Uniforms.at: index must be an integer >= 0, got ${i}`);
    // (s0 + (i + 1)·STEP) mod 2^32, exact: Math.imul wraps the product to 32 bits.
    return mix((this.s0 + Math.imul((i + 1) >>> 0, STEP)) >>> 0);
  }

  /** Draws i0 … i0 + n − 1 as float32, as fill(n) gives them after i0 draws. */
  range(i0: number, n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = f32Below1(this.at(i0 + i));
    return out;
  }
}
