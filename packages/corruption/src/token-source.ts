import type { Rng } from './rng';
import { checkInt } from './validate';

// Where inserted and substituted tokens come from (docs/techniques.md §3.3, [I]): uniform over the vocabulary
// minus forbidden special ids, or a corpus unigram distribution given as counts, sampled in O(1) with
// Vose's alias table. Build one TokenSampler and reuse it: the alias table costs O(vocabSize).

export class TokenSampler {
  readonly vocabSize: number;
  /** Sorted forbidden ids inside [0, vocabSize). */
  readonly forbidden: Int32Array;
  private readonly prob: Float64Array | null;
  private readonly alias: Int32Array | null;
  private readonly allowed: number;

  constructor(vocabSize: number, source: 'uniform' | ArrayLike<number> = 'uniform', forbid: readonly number[] = []) {
    checkInt('vocabSize', vocabSize, 1);
    this.vocabSize = vocabSize;
    if (!Array.isArray(forbid)) throw new TypeError('forbid must be an array of token ids');
    forbid.forEach((f, i) => checkInt(`forbid[${i}]`, f, 0));
    this.forbidden = Int32Array.from(new Set(forbid.filter((f) => f < vocabSize))).sort();
    if (source === 'uniform') {
      this.allowed = vocabSize - this.forbidden.length;
      if (this.allowed < 1) throw new RangeError('forbid leaves no token of the vocabulary (vocabSize) to sample');
      this.prob = null;
      this.alias = null;
      return;
    }
    if (typeof source !== 'object' || source === null || typeof source.length !== 'number') {
      throw new RangeError(`source must be 'uniform' or unigram counts (one per vocabulary id)`);
    }
    if (source.length !== vocabSize)
      throw new RangeError(`source has ${source.length} counts, expected vocabSize = ${vocabSize}`);
    const w = new Float64Array(vocabSize);
    let total = 0;
    for (let i = 0; i < vocabSize; i++) {
      const c = source[i];
      if (!(c >= 0) || !Number.isFinite(c)) throw new RangeError(`source[${i}] must be a finite count >= 0, got ${c}`);
      w[i] = c;
    }
    for (const f of this.forbidden) w[f] = 0;
    for (let i = 0; i < vocabSize; i++) total += w[i];
    if (!(total > 0)) throw new RangeError('source has no positive count outside forbid');
    const { prob, alias } = buildAlias(w, total);
    this.prob = prob;
    this.alias = alias;
    this.allowed = vocabSize;
  }

  sample(rng: Rng): number {
    if (this.prob === null || this.alias === null) {
      let r = rng.int(this.allowed);
      const f = this.forbidden;
      for (let i = 0; i < f.length && r >= f[i]; i++) r++;
      return r;
    }
    const i = rng.int(this.vocabSize);
    return rng.next() < this.prob[i] ? i : this.alias[i];
  }

  /** Probability of token id under this source (for tests and diagnostics). */
  probability(id: number): number {
    if (id < 0 || id >= this.vocabSize || !Number.isInteger(id)) return 0;
    if (this.prob === null || this.alias === null) {
      return binarySearch(this.forbidden, id) ? 0 : 1 / this.allowed;
    }
    let p = this.prob[id];
    for (let j = 0; j < this.vocabSize; j++) if (this.alias[j] === id && j !== id) p += 1 - this.prob[j];
    return p / this.vocabSize;
  }
}

function binarySearch(a: Int32Array, v: number): boolean {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const m = (lo + hi) >> 1;
    if (a[m] === v) return true;
    if (a[m] < v) lo = m + 1;
    else hi = m - 1;
  }
  return false;
}

/** Vose's alias method: column i keeps i with probability prob[i], otherwise gives alias[i]. */
function buildAlias(w: Float64Array, total: number): { prob: Float64Array; alias: Int32Array } {
  const n = w.length;
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const scaled = new Float64Array(n);
  const small = new Int32Array(n);
  const large = new Int32Array(n);
  let ns = 0;
  let nl = 0;
  for (let i = 0; i < n; i++) {
    scaled[i] = (w[i] * n) / total;
    if (scaled[i] < 1) small[ns++] = i;
    else large[nl++] = i;
  }
  while (ns > 0 && nl > 0) {
    const s = small[--ns];
    const l = large[--nl];
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    if (scaled[l] < 1) small[ns++] = l;
    else large[nl++] = l;
  }
  // Leftovers are 1 up to rounding; a zero-weight column must never keep itself.
  while (nl > 0) {
    const l = large[--nl];
    prob[l] = 1;
    alias[l] = l;
  }
  let best = 0;
  for (let i = 1; i < n; i++) if (w[i] > w[best]) best = i;
  while (ns > 0) {
    const s = small[--ns];
    prob[s] = w[s] > 0 ? 1 : 0;
    alias[s] = w[s] > 0 ? s : best;
  }
  return { prob, alias };
}
