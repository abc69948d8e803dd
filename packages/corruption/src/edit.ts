import type { Rng } from './rng';
import { TokenSampler } from './token-source';
import { checkIds, checkInt, checkNormalize, checkReal, promptLengths, type Normalize } from './validate';

// The edit-based forward process of Seed Diffusion stage 2 (paper Eq. 3–4, docs/techniques.md §3.3):
//   z_0 = x0[editable];  z_j = o_j(z_{j−1}), j = 1..k_t, o_j ∈ {sub, ins, del};  k_t = ⌊|x0_editable|·α_t⌋
// with α_t = alphaMax·t, t ~ U(0, 1] per row (alphaMax = 0.1, the paper's range [0, 0.1]).
// The ops act on the variable-length editable sequence (Eq. 3 literally), which is then fitted to the
// fixed canvas of the row: prompt ++ z ++ (pad tail, when excludePad) cut at len, or padded at the end with
// padId (insertions push the tail out, deletions pad at the end). The prompt is never touched.
// The loss is a plain reconstruction NLL of x0 at every weighted position (paper Eq. 6): weights are
// 1/(number of weighted positions in the batch), so Σ w·CE is the mean CE over them.

export interface EditOpMix {
  sub?: number;
  ins?: number;
  del?: number;
}

export interface EditOptions {
  vocabSize: number;
  /** Fills the end of the canvas after deletions. */
  padId: number;
  /** Upper end of α_t (default 0.1); α_t = alphaMax·t. */
  alphaMax?: number;
  /** Fixed α for every row instead of alphaMax·t. */
  alpha?: number;
  /** Relative operation frequencies (default 1/3 each). */
  ops?: EditOpMix;
  /** Inserted/substituted tokens: 'uniform' (default), unigram counts (vocabSize entries), or a prebuilt sampler. */
  source?: 'uniform' | Float64Array | TokenSampler;
  /** Ids never inserted or substituted (special tokens); ignored when source is a TokenSampler. */
  forbid?: number[];
  /** Prompt prefix per row: never edited, weight 0. */
  promptLen?: number | Int32Array;
  /** Edit only the content before the trailing run of padId; those trailing pad targets get weight 0 (default false). */
  excludePad?: boolean;
  /** Each op touches a position no earlier op touched (no double substitution, no deleting an insert). */
  distinctPositions?: boolean;
  /** 'all' (default): ÷ weighted positions of the batch; 'rows': per-row mean ÷ batch; 'none': weight 1. */
  normalize?: 'all' | 'rows' | 'none';
}

export interface EditResult {
  /** The corrupted canvas, batch·len. */
  edited: Int32Array;
  /** x0 (the reconstruction targets), batch·len. */
  targets: Int32Array;
  /** Reconstruction weights on every non-prompt (and, with excludePad, non-pad) position. */
  weights: Float32Array;
  /** k_t per row (operations drawn; an op on an empty sequence is skipped but still counted). */
  k: Int32Array;
  /** t and α_t per row. */
  t: Float32Array;
  alpha: Float32Array;
  /** 1 where edited differs from x0 at the same position (for loss on changed vs unchanged positions). */
  changed: Uint8Array;
}

const NORMALIZE: readonly Normalize[] = ['all', 'rows', 'none'];
const SUB = 0;
const INS = 1;
const DEL = 2;

const samplerCache = new WeakMap<Float64Array, { key: string; sampler: TokenSampler }>();

function resolveSource(opts: EditOptions): TokenSampler {
  const src = opts.source ?? 'uniform';
  if (src instanceof TokenSampler) {
    if (src.vocabSize !== opts.vocabSize) {
      throw new RangeError(`source sampler has vocabSize ${src.vocabSize}, options say vocabSize ${opts.vocabSize}`);
    }
    return src;
  }
  if (src === 'uniform') return new TokenSampler(opts.vocabSize, 'uniform', opts.forbid ?? []);
  if (!(src instanceof Float64Array))
    throw new RangeError(`source must be 'uniform', a Float64Array of counts or a TokenSampler`);
  const key = `${opts.vocabSize}|${(opts.forbid ?? []).join(',')}`;
  const hit = samplerCache.get(src);
  if (hit && hit.key === key) return hit.sampler;
  const sampler = new TokenSampler(opts.vocabSize, src, opts.forbid ?? []);
  samplerCache.set(src, { key, sampler });
  return sampler;
}

/** Apply k random ops to z[0..n) in place (capacity n + k); returns the new length. Exported for tests. */
export function applyRandomEdits(
  z: Int32Array,
  n: number,
  k: number,
  rng: Rng,
  sampler: TokenSampler,
  cumOps: readonly [number, number],
  touched: Uint8Array | null,
): number {
  let len = n;
  let untouched = n;
  for (let j = 0; j < k; j++) {
    const u = rng.next();
    const op = u < cumOps[0] ? SUB : u < cumOps[1] ? INS : DEL;
    if (op === INS) {
      const pos = rng.int(len + 1);
      z.copyWithin(pos + 1, pos, len);
      if (touched) touched.copyWithin(pos + 1, pos, len);
      z[pos] = sampler.sample(rng);
      if (touched) touched[pos] = 1;
      len++;
      continue;
    }
    if (len === 0) continue;
    let pos: number;
    if (touched && untouched > 0) {
      let r = rng.int(untouched);
      pos = 0;
      for (; ; pos++) if (!touched[pos] && r-- === 0) break;
    } else {
      pos = rng.int(len);
    }
    if (op === SUB) {
      // A substitution always changes the token (a no-op would spend the budget); bounded retries for
      // degenerate sources whose only token is the current one.
      let tok = sampler.sample(rng);
      for (let tries = 0; tok === z[pos] && tries < 64; tries++) tok = sampler.sample(rng);
      z[pos] = tok;
      if (touched && !touched[pos]) {
        touched[pos] = 1;
        untouched--;
      }
    } else {
      if (touched && !touched[pos]) untouched--;
      z.copyWithin(pos, pos + 1, len);
      if (touched) touched.copyWithin(pos, pos + 1, len);
      len--;
    }
  }
  return len;
}

export function editCorrupt(x0: Int32Array, batch: number, len: number, rng: Rng, opts: EditOptions): EditResult {
  checkIds('x0', x0, batch, len);
  if (!opts || typeof opts !== 'object') throw new TypeError('opts must be an object with vocabSize and padId');
  checkInt('vocabSize', opts.vocabSize, 1);
  checkInt('padId', opts.padId, 0);
  const alphaMax = checkReal('alphaMax', opts.alphaMax ?? 0.1, 0, 1);
  if (opts.alpha !== undefined) checkReal('alpha', opts.alpha, 0, 1);
  const normalize = checkNormalize(opts.normalize ?? 'all', NORMALIZE);
  const mix = opts.ops ?? { sub: 1, ins: 1, del: 1 };
  const ws = checkReal('ops.sub', mix.sub ?? 0, 0);
  const wi = checkReal('ops.ins', mix.ins ?? 0, 0);
  const wd = checkReal('ops.del', mix.del ?? 0, 0);
  const wt = ws + wi + wd;
  if (!(wt > 0)) throw new RangeError('ops must give at least one of sub, ins, del a positive weight');
  const cumOps: [number, number] = [ws / wt, (ws + wi) / wt];
  const sampler = resolveSource(opts);
  const prompt = promptLengths(opts.promptLen, batch, len);
  const excludePad = opts.excludePad === true;
  const pad = opts.padId;

  const edited = new Int32Array(batch * len);
  const targets = Int32Array.from(x0);
  const weights = new Float32Array(batch * len);
  const k = new Int32Array(batch);
  const t = new Float32Array(batch);
  const alpha = new Float32Array(batch);
  const changed = new Uint8Array(batch * len);
  const counted = new Int32Array(batch);
  const z = new Int32Array(len * 2 + 1);
  const touched = opts.distinctPositions ? new Uint8Array(len * 2 + 1) : null;

  for (let r = 0; r < batch; r++) {
    const o = r * len;
    const p0 = prompt[r];
    // Editable region [p0, end): with excludePad, the content before the trailing run of pads.
    let end = len;
    if (excludePad) while (end > p0 && x0[o + end - 1] === pad) end--;
    const n = end - p0;
    const tr = Math.fround(1 - rng.next()); // float32 so that k = ⌊n·alphaMax·t⌋ is re-derivable from the returned t
    const a = opts.alpha ?? alphaMax * tr;
    const kr = Math.floor(n * a);
    t[r] = tr;
    alpha[r] = a;
    k[r] = kr;
    if (z.length < n + kr + 1) throw new Error('internal: edit buffer too small');
    z.set(x0.subarray(o + p0, o + end));
    if (touched) touched.fill(0);
    const zl = applyRandomEdits(z, n, kr, rng, sampler, cumOps, touched);
    // Fit prompt ++ z ++ tail onto the canvas of len.
    edited.set(x0.subarray(o, o + p0), o);
    let w = o + p0;
    for (let i = 0; i < zl && w < o + len; i++) edited[w++] = z[i];
    for (let i = end; i < len && w < o + len; i++) edited[w++] = x0[o + i];
    while (w < o + len) edited[w++] = pad;
    for (let i = o + p0; i < o + len; i++) {
      changed[i] = edited[i] !== x0[i] ? 1 : 0;
      if (!(excludePad && i >= o + end)) {
        weights[i] = 1;
        counted[r]++;
      }
    }
  }
  let total = 0;
  for (let r = 0; r < batch; r++) total += counted[r];
  for (let r = 0; r < batch; r++) {
    const d = normalize === 'all' ? total : normalize === 'rows' ? counted[r] * batch : 1;
    if (d === 0) continue;
    const w = Math.fround(1 / d);
    for (let i = r * len; i < (r + 1) * len; i++) if (weights[i]) weights[i] = w;
  }
  return { edited, targets, weights, k, t, alpha, changed };
}
