// Fixed-length training windows over a token stream, visited in a seeded random order
// per epoch. The cursor (epoch, index) is all the state, so a resumed run continues exactly.

export interface DataCursor {
  epoch: number;
  index: number;
}

export class WindowSampler {
  readonly count: number;
  private order: Uint32Array | null = null;
  private orderEpoch = -1;
  cursor: DataCursor = { epoch: 0, index: 0 };

  constructor(
    readonly tokens: Int32Array,
    readonly len: number,
    readonly seed: number,
  ) {
    this.count = Math.floor(tokens.length / len);
    if (this.count < 1) throw new Error(`token stream of ${tokens.length} tokens is shorter than one window of ${len}`);
  }

  /** Fills out [B·len] with the next B windows. */
  next(B: number, out = new Int32Array(B * this.len)): Int32Array {
    for (let b = 0; b < B; b++) {
      if (this.cursor.index >= this.count) this.cursor = { epoch: this.cursor.epoch + 1, index: 0 };
      const w = this.permutation(this.cursor.epoch)[this.cursor.index++];
      out.set(this.tokens.subarray(w * this.len, (w + 1) * this.len), b * this.len);
    }
    return out;
  }

  /** Windows [start, start+B) in file order (evaluation: the same windows every time). */
  fixed(start: number, B: number): Int32Array {
    const out = new Int32Array(B * this.len);
    for (let b = 0; b < B; b++) {
      const w = (start + b) % this.count;
      out.set(this.tokens.subarray(w * this.len, (w + 1) * this.len), b * this.len);
    }
    return out;
  }

  private permutation(epoch: number): Uint32Array {
    if (this.orderEpoch === epoch && this.order) return this.order;
    const p = new Uint32Array(this.count);
    for (let i = 0; i < p.length; i++) p[i] = i;
    // Fisher–Yates with a small LCG seeded by (seed, epoch): deterministic and cheap.
    let s = (Math.imul(this.seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(epoch + 1, 0x85ebca6b)) >>> 0;
    for (let i = p.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = Math.floor((s / 4294967296) * (i + 1));
      const t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    this.order = p;
    this.orderEpoch = epoch;
    return p;
  }
}
