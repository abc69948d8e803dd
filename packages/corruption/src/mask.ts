import type { Rng } from './rng';
import { noiseSchedule, sampleT, type NoiseSchedule, type ScheduleSpec } from './schedule';
import { checkIds, checkInt, checkNormalize, promptLengths, type Normalize } from './validate';

// The mask (absorbing-state) forward process, docs/techniques.md §1.3 / §2.1 / §2.3:
// every eligible position is replaced by maskId independently with probability p_mask(t).
// Eligible = not in the row's prompt and (when excludePad) not a pad. Ineligible positions are never
// masked and get weight 0. Weights are 1/p_mask-style ELBO weights on masked positions, normalised:
//   'all'      ÷ (batch·len)                    LLaDA pretraining: Σ w·CE is exactly the LLaDA loss
//   'eligible' ÷ (eligible positions of the row · batch)   LLaDA SFT: Σ_rows Σ (CE/p)/answer_len / b
//   'rows'     ÷ batch                          per-sequence ELBO sums (likelihood estimates)
//   'none'     raw weights

export interface MaskOptions {
  maskId: number;
  /** Noise schedule (default 'linear'); ignored when exactK is set. */
  schedule?: ScheduleSpec;
  /** ε floor of the schedule (default 1e-3, LLaDA). */
  eps?: number;
  /** Draw one t per block of this many positions (BD3-LM) instead of one per row. */
  perBlock?: number;
  /** Stratified (low-discrepancy) t over all batch×blocks draws, as bd3lms _sample_t; with exactK, LLaDA's stratified k. */
  antithetic?: boolean;
  /** LLaDA likelihood estimator: k ~ U{1..n} positions of the n eligible are masked, weight n/k. */
  exactK?: boolean;
  /** Prompt prefix per row (never masked, weight 0). */
  promptLen?: number | Int32Array;
  /** Pad id; its positions are excluded (never masked, weight 0) when excludePad is true. */
  padId?: number;
  excludePad?: boolean;
  /** Weight normalisation (default 'all'). */
  normalize?: Normalize;
  /** Cap on BD3-LM mask resampling rounds per unit before masking an exact in-window count (default 1000). */
  maxResample?: number;
}

export interface MaskResult {
  /** x_t: x0 with masked positions set to maskId, batch·len. */
  noisy: Int32Array;
  /** 1 where masked. */
  masked: Uint8Array;
  /** Loss weight per position (0 where not masked), normalised as options.normalize says. */
  weights: Float32Array;
  /** t per unit: batch·numBlocks entries (numBlocks = 1 without perBlock). exactK: k/n. */
  t: Float32Array;
  /** p_mask per unit (same layout as t). */
  pMask: Float32Array;
  /** Units per row and their size (len when not perBlock). */
  numBlocks: number;
  blockSize: number;
  /** Eligible positions per row. */
  eligible: Int32Array;
  /** Masked positions per row. */
  maskedCount: Int32Array;
}

const NORMALIZE: readonly Normalize[] = ['all', 'eligible', 'rows', 'none'];

function eligibility(x0: Int32Array, batch: number, len: number, prompt: Int32Array, opts: MaskOptions): Uint8Array {
  const el = new Uint8Array(batch * len);
  const exclude = opts.excludePad === true;
  if (exclude && opts.padId === undefined) throw new RangeError('padId must be given when excludePad is true');
  const pad = opts.padId ?? 0;
  for (let r = 0; r < batch; r++) {
    const o = r * len;
    for (let i = prompt[r]; i < len; i++) el[o + i] = exclude && x0[o + i] === pad ? 0 : 1;
  }
  return el;
}

export function maskCorrupt(x0: Int32Array, batch: number, len: number, rng: Rng, opts: MaskOptions): MaskResult {
  checkIds('x0', x0, batch, len);
  if (!opts || typeof opts !== 'object') throw new TypeError('opts must be an object with maskId');
  checkInt('maskId', opts.maskId, 0);
  if (opts.padId !== undefined) checkInt('padId', opts.padId, 0);
  const normalize = checkNormalize(opts.normalize ?? 'all', NORMALIZE);
  const prompt = promptLengths(opts.promptLen, batch, len);
  const el = eligibility(x0, batch, len, prompt, opts);
  const eligible = new Int32Array(batch);
  for (let r = 0; r < batch; r++) {
    let n = 0;
    for (let i = r * len; i < (r + 1) * len; i++) n += el[i];
    eligible[r] = n;
  }
  if (opts.exactK) {
    if (opts.perBlock !== undefined)
      throw new RangeError('perBlock cannot be combined with exactK (k is drawn per row)');
    return exactK(x0, batch, len, rng, opts.maskId, el, eligible, opts.antithetic === true, normalize);
  }
  const block = opts.perBlock === undefined ? Math.max(len, 1) : checkInt('perBlock', opts.perBlock, 1);
  const numBlocks = len === 0 ? 0 : Math.ceil(len / block);
  const sched = noiseSchedule(opts.schedule ?? 'linear', opts.eps ?? 1e-3);
  const maxResample = checkInt('maxResample', opts.maxResample ?? 1000, 0);
  const tt = sampleT(batch * numBlocks, rng, sched, opts.antithetic === true);

  const noisy = Int32Array.from(x0);
  const masked = new Uint8Array(batch * len);
  const weights = new Float32Array(batch * len);
  const t = new Float32Array(batch * numBlocks);
  const pMask = new Float32Array(batch * numBlocks);
  const maskedCount = new Int32Array(batch);
  for (let r = 0; r < batch; r++) {
    const norm = normaliser(normalize, batch, len, eligible[r]);
    for (let b = 0; b < numBlocks; b++) {
      const u = r * numBlocks + b;
      const tu = Math.fround(tt[u]); // weights are computed from the stored float32 t, so they can be re-derived exactly
      const p = sched.pMask(tu);
      t[u] = tu;
      pMask[u] = p;
      const lo = r * len + b * block;
      const hi = Math.min(lo + block, (r + 1) * len);
      drawBlock(masked, el, lo, hi, p, rng, sched, maxResample);
      const w = sched.weight(tu) / norm;
      for (let i = lo; i < hi; i++) {
        if (masked[i]) {
          noisy[i] = opts.maskId;
          weights[i] = w;
          maskedCount[r]++;
        }
      }
    }
  }
  return { noisy, masked, weights, t, pMask, numBlocks, blockSize: block, eligible, maskedCount };
}

function normaliser(n: Normalize, batch: number, len: number, eligibleRow: number): number {
  if (n === 'all') return batch * len;
  if (n === 'eligible') return Math.max(eligibleRow, 1) * batch;
  if (n === 'rows') return batch;
  return 1;
}

/** Bernoulli(p) on eligible positions of [lo, hi); BD3-LM `_resample_q_xt` when the schedule has a window. */
function drawBlock(
  masked: Uint8Array,
  el: Uint8Array,
  lo: number,
  hi: number,
  p: number,
  rng: Rng,
  s: NoiseSchedule,
  maxResample: number,
): void {
  let count = 0;
  let n = 0;
  for (let i = lo; i < hi; i++) {
    if (!el[i]) continue;
    n++;
    const m = rng.next() < p ? 1 : 0;
    masked[i] = m;
    count += m;
  }
  if (!s.window || n === 0) return;
  const [beta, omega] = s.window;
  // Smallest and largest masked counts whose fraction lies in [β, ω]; none means the window cannot be met
  // with n positions (e.g. one eligible position and [0.3, 0.8]) and the draw is kept as it is.
  let cLo = Math.ceil(beta * n);
  while (cLo > 0 && (cLo - 1) / n >= beta) cLo--;
  while (cLo / n < beta) cLo++;
  let cHi = Math.floor(omega * n);
  while ((cHi + 1) / n <= omega) cHi++;
  while (cHi > 0 && cHi / n > omega) cHi--;
  if (cLo > cHi || cLo > n) return;
  for (let round = 0; round < maxResample && (count < cLo || count > cHi); round++) {
    count = 0;
    for (let i = lo; i < hi; i++) {
      if (!el[i]) continue;
      const m = rng.next() < p ? 1 : 0;
      masked[i] = m;
      count += m;
    }
  }
  if (count >= cLo && count <= cHi) return;
  // Fallback after maxResample rounds: mask exactly the in-window count nearest p·n, uniformly.
  const k = Math.min(cHi, Math.max(cLo, Math.round(p * n)));
  const idx: number[] = [];
  for (let i = lo; i < hi; i++) {
    masked[i] = 0;
    if (el[i]) idx.push(i);
  }
  chooseK(idx, k, rng, masked);
}

/** Mark k entries of idx (chosen uniformly without replacement: partial Fisher–Yates) in masked. */
function chooseK(idx: number[] | Int32Array, k: number, rng: Rng, masked: Uint8Array): void {
  const n = idx.length;
  for (let j = 0; j < k; j++) {
    const s = j + rng.int(n - j);
    const v = idx[s];
    idx[s] = idx[j];
    idx[j] = v;
    masked[v] = 1;
  }
}

function exactK(
  x0: Int32Array,
  batch: number,
  len: number,
  rng: Rng,
  maskId: number,
  el: Uint8Array,
  eligible: Int32Array,
  antithetic: boolean,
  normalize: Normalize,
): MaskResult {
  const noisy = Int32Array.from(x0);
  const masked = new Uint8Array(batch * len);
  const weights = new Float32Array(batch * len);
  const t = new Float32Array(batch);
  const pMask = new Float32Array(batch);
  const maskedCount = new Int32Array(batch);
  // LLaDA get_log_likelihood.py: one k ~ U{1..n}, then k_r = round(k + r·n/b), wrapped into 1..n (stratified).
  const k0 = antithetic ? rng.next() : 0;
  for (let r = 0; r < batch; r++) {
    const n = eligible[r];
    if (n === 0) continue;
    let k: number;
    if (antithetic) {
      const x = Math.round(1 + Math.floor(k0 * n) + (r * n) / batch);
      k = ((x - 1) % n) + 1;
    } else {
      k = 1 + rng.int(n);
    }
    const idx = new Int32Array(n);
    let j = 0;
    for (let i = r * len; i < (r + 1) * len; i++) if (el[i]) idx[j++] = i;
    chooseK(idx, k, rng, masked);
    const w = n / k / normaliser(normalize, batch, len, n);
    for (let i = r * len; i < (r + 1) * len; i++) {
      if (masked[i]) {
        noisy[i] = maskId;
        weights[i] = w;
      }
    }
    t[r] = k / n;
    pMask[r] = k / n;
    maskedCount[r] = k;
  }
  return { noisy, masked, weights, t, pMask, numBlocks: 1, blockSize: len, eligible, maskedCount };
}
