import { checkInt } from './validate';

// xoshiro128** (Blackman & Vigna): 128 bits of state, 32-bit outputs with only Math.imul and shifts,
// so it is exact in JavaScript and its whole state fits in four numbers that can be saved with a
// training checkpoint and restored for a bit-exact resume.

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const TWO32 = 4294967296;

export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** seed: any safe integer (negative allowed); the high and low 32 bits both feed the state. */
  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isSafeInteger(seed))
      throw new TypeError(`seed must be a safe integer, got ${String(seed)}`);
    const hi = Math.floor(seed / TWO32) >>> 0;
    const sm = splitmix32((seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d));
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm() ^ hi;
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s3 = 1;
  }

  /** Next 32-bit unsigned output. */
  uint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = s1 << 9;
    let s2 = this.s2 ^ s0;
    let s3 = this.s3 ^ s1;
    this.s1 = s1 ^ s2;
    this.s0 = s0 ^ s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    this.s2 = s2;
    this.s3 = s3;
    return r;
  }

  /** Uniform in [0, 1), in steps of 2^-32. */
  next(): number {
    return this.uint32() / TWO32;
  }

  /** Uniform integer in [0, n), unbiased (rejection of the top partial range). n in [1, 2^32]. */
  int(n: number): number {
    if (!(n >= 1 && n <= TWO32 && Number.isInteger(n))) checkInt('n', n, 1, TWO32);
    const limit = TWO32 - (TWO32 % n);
    for (;;) {
      const u = this.uint32();
      if (u < limit) return u % n;
    }
  }

  /** The four 32-bit state words; Rng.fromState(state()) continues the same stream. */
  state(): number[] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  static fromState(s: readonly number[]): Rng {
    if (!Array.isArray(s) || s.length !== 4) throw new TypeError('state must be an array of 4 uint32 words');
    s.forEach((w, i) => checkInt(`state[${i}]`, w, 0, TWO32 - 1));
    if (s.every((w) => w === 0)) throw new RangeError('state must not be all zeros');
    const r = new Rng(0);
    r.s0 = s[0] | 0;
    r.s1 = s[1] | 0;
    r.s2 = s[2] | 0;
    r.s3 = s[3] | 0;
    return r;
  }

  clone(): Rng {
    return Rng.fromState(this.state());
  }
}
