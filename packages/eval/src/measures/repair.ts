// Repair rate of code with k random token substitutions: a block of held-out tokens right after a
// clean left context gets k substitutions at distinct positions (tokens drawn from the held-out
// unigram, never special tokens: the edit stage's corruption with substitutions only), the model
// self-corrects it against the cache of the context, and we count blocks restored exactly and token
// accuracy before and after. k = 0 measures the damage done to clean code (false edits).
import { type Rng, TokenSampler } from '@seed-diffusion/corruption';
import type { Model } from '@seed-diffusion/model';

import type { HeldOut } from './heldout';
import { drawSpan } from './restore';
import { type SelfCorrectOptions, checkSelfCorrect, selfCorrectBlock } from './self-correct';
import { type MeasureRun, checkCount, secondsSince } from './stats';

export interface RepairOptions extends SelfCorrectOptions {
  /** Called after each scored item with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Blocks per run (default 16). */
  blocks?: number;
  /** Tokens per block (default: 16, or the largest trained block size below it). */
  blockSize?: number;
  /** Substitutions per block (default 2). */
  edits?: number;
  /** Left-context tokens at most, in whole blocks (default 96; fewer where the document starts closer, at least one block). */
  contextTokens?: number;
}

/** Substitutes k distinct positions of `block` with tokens from `sampler` that differ from the originals. */
export function substitute(block: Int32Array, k: number, rng: Rng, sampler: TokenSampler): Int32Array {
  if (k > block.length) throw new Error(`cannot substitute ${k} positions of a block of ${block.length}`);
  const out = Int32Array.from(block);
  const pos = Array.from(block.keys());
  for (let j = 0; j < k; j++) {
    const at = j + rng.int(pos.length - j); // partial Fisher–Yates: k distinct positions
    [pos[j], pos[at]] = [pos[at], pos[j]];
    let tok = sampler.sample(rng);
    for (let tries = 0; tok === block[pos[j]] && tries < 64; tries++) tok = sampler.sample(rng);
    out[pos[j]] = tok;
  }
  return out;
}

const samplers = new WeakMap<HeldOut, Map<string, TokenSampler>>();

/** Unigram of the held-out stream without the special tokens (cached per held-out set). */
function unigramSampler(h: HeldOut, vocabSize: number, forbid: number[]): TokenSampler {
  const key = `${vocabSize}|${forbid.join(',')}`;
  let m = samplers.get(h);
  if (!m) samplers.set(h, (m = new Map()));
  let s = m.get(key);
  if (!s) {
    const counts = new Float64Array(vocabSize);
    for (const t of h.stream) if (t >= 0 && t < vocabSize) counts[t]++;
    s = new TokenSampler(vocabSize, counts, forbid);
    m.set(key, s);
  }
  return s;
}

export function repairEdits(model: Model, heldOut: HeldOut, rng: Rng, o: RepairOptions = {}): MeasureRun {
  const c = model.config;
  const n = checkCount('repair blocks', o.blocks ?? 16);
  const sizes = c.trainedBlockSizes.filter((b) => b <= 16);
  const b = checkCount('repair blockSize', o.blockSize ?? (sizes.length > 0 ? Math.max(...sizes) : 16));
  const k = checkCount('repair edits', o.edits ?? 2, 0);
  if (k > b) throw new Error(`repair edits ${k} exceed the block size ${b}`);
  const sc = checkSelfCorrect(o);
  const wanted = Math.min(o.contextTokens ?? 96, c.maxSeqLen - b);
  const maxContext = Math.floor(wanted / b) * b;
  if (maxContext < b)
    throw new Error(`repair: the context must hold at least one block of ${b} (contextTokens ${wanted})`);
  const sampler = unigramSampler(heldOut, c.vocabSize, [...new Set([c.maskTokenId, c.eosTokenId, c.padTokenId])]);
  const cache = model.newCache(maxContext + b);
  const t0 = performance.now();
  let before = 0;
  let after = 0;
  let repaired = 0;
  let forwards = 0;
  let rewrites = 0;
  for (let i = 0; i < n; i++) {
    const { doc, at } = drawSpan(heldOut, rng, b, b);
    const d = heldOut.docs[doc];
    // as much context as the document has, in whole blocks (at least one)
    const context = Math.min(maxContext, Math.floor(at / b) * b);
    const truth = d.subarray(at, at + b);
    const block = substitute(truth, k, rng, sampler);
    for (let j = 0; j < b; j++) if (block[j] === truth[j]) before++;
    cache.reset();
    // the clean context as decoding leaves it: block-causal blocks of b aligned at its start
    model.prefill(cache, d.slice(at - context, at), b);
    const r = selfCorrectBlock(model, cache, block, sc);
    forwards += r.forwards + 1;
    rewrites += r.rewrites;
    let ok = 0;
    for (let j = 0; j < b; j++) if (block[j] === truth[j]) ok++;
    after += ok;
    if (ok === b) repaired++;
    o.onProgress?.(i + 1, n);
  }
  return {
    measure: 'repair',
    scores: {
      blocksRepaired: repaired / n,
      accuracyBefore: before / (n * b),
      accuracyAfter: after / (n * b),
      rewritesPerBlock: rewrites / n,
    },
    samples: n,
    tokens: n * b,
    forwards,
    seconds: secondsSince(t0),
    settings: {
      blockSize: b,
      edits: k,
      contextTokens: maxContext,
      threshold: sc.threshold,
      iterations: sc.iterations,
      source: 'held-out unigram',
    },
  };
}
