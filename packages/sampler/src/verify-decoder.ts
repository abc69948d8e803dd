// Verified block decoding (mode 'verify'): a lossless way to get several tokens per forward from a
// diffusion model that is consistent but not confident. Each forward holds, against the KV cache,
//   clean rows   [last final token, g_1 … g_k]   (k guesses for the next positions),
//   k + 1 one-token [MASK] rows                 (what b = 1 decoding computes after each clean row),
//   optionally a draft block of [MASK] rows    (the diffusion model's parallel guess past g_k),
// in one call (mask 'verify' of sd_ops.h). The one-token rows give the b = 1 greedy token after
// every prefix of the guesses, so the longest run of guesses they confirm, plus the token after
// it, is exactly what mode 'ar' would have produced — in one forward instead of n + 1. The
// confirmed rows' K/V are already in the cache tail, computed as b = 1 decoding computes them.
// Guesses for the next forward come from the context itself (code, and a weak model's output,
// repeat): the tokens after the latest earlier occurrence of its longest matching suffix, carried on
// periodically into a loop, as many as the match length makes worth their rows (guessBudget: more
// after a forward that confirmed a long run); else,
// when every guess was confirmed, the draft block (drafted after them); else the one-token rows
// past the first miss (Jacobi iteration). On the embedded model the draft block did not pay for
// its rows (BENCHMARKS.md), so draftRows defaults to 0; a model whose parallel predictions agree
// with its b = 1 chain gains.
// Same idea as self-speculative decoding for diffusion LMs (SSD, arXiv 2510.04147), with the
// b = 1 chain of a block-diffusion model as the target instead of the model's own block steps.
// Sampling (temperature > 0, top-k, top-p) stays exact the same way: the one-token row of position
// L + i samples with uniform draw i of the seed's stream, the draw mode 'ar' uses there, so a
// guess is kept when it equals AR's sample — the speculative-sampling rule for a draft that
// proposes one token with certainty (kept with probability q(g), else a sample of q without g),
// coupled so that the tokens are AR's own for the same seed, not just distributed like them.
import type { Tensor } from '@seed-diffusion/native';

import { decodeLogitRows, requestFilters, type RowFilters } from './decode-rows';
import type { Decoder, DecoderContext } from './decoder-step';
import { finishStats, newStats, type StopReason } from './events';
import type { DecodingCache, DecodingModel } from './model-api';
import type { SamplerOptions } from './options';
import { Uniforms } from './rng';

/** Jacobi guesses (one-token rows past the first miss) carried to the next forward. */
const JACOBI_GUESSES = 2;

/** Longest suffix match contextLookup looks for (longer ones are as good as certain repeats). */
export const MAX_MATCH = 32;

/** Guesses from the context's own history, and how much they can be trusted. */
export interface ContextGuess {
  /** The tokens that followed the match: up to `max`, continued periodically past the context end. */
  guesses: Int32Array;
  /** Length of the matched suffix (0: the last token never occurred before). */
  match: number;
}

/**
 * Finds the earlier position whose preceding tokens match the longest suffix of ctx[0, len)
 * (up to MAX_MATCH; the latest such position on ties) and returns the `max` tokens that followed
 * it. When the continuation runs into the context's end it carries on from its own start, as an
 * overlapping copy does: a loop of period p (the match p tokens back) guesses the loop onwards
 * instead of stopping after p tokens. O(len · match) on a miss-heavy context; one pass.
 */
export function contextLookup(ctx: Int32Array, len: number, max: number): ContextGuess {
  const last = len - 1;
  let best = 0;
  let at = -1;
  for (let j = last - 1; j >= 0 && best < MAX_MATCH; j--) {
    if (ctx[j] !== ctx[last]) continue;
    let n = 1;
    while (n < MAX_MATCH && j - n >= 0 && ctx[j - n] === ctx[last - n]) n++;
    if (n > best) {
      best = n;
      at = j;
    }
  }
  if (best === 0 || max <= 0) return { guesses: new Int32Array(0), match: best };
  const guesses = new Int32Array(max);
  const period = len - (at + 1);
  for (let q = 0; q < max; q++) guesses[q] = q < period ? ctx[at + 1 + q] : guesses[q - period];
  return { guesses, match: best };
}

/** Guesses after a long context match, unless the previous forward confirmed that many (see guessBudget). */
export const LONG_GUESSES = 15;

/**
 * How many guesses of a context match of length `match` are worth their rows, at most `max`.
 * On the embedded model (HumanEval prompts, BENCHMARKS.md) the b = 1 chain confirmed on average
 * 0.7 tokens after a 1-token match, 1.3 after a 2-token one, 3–4 after 3–7 tokens and 9–12 of 15
 * after 8 or more (all 15 in half of those forwards); each guess costs two rows (a clean one and a
 * one-token [MASK] one), about 4–7 % of a one-token forward here. So short matches get few rows, long
 * ones LONG_GUESSES, and a `streak` (the previous forward confirmed all of at least LONG_GUESSES
 * guesses: the output is copying a long stretch) the whole block.
 */
export function guessBudget(match: number, max: number, streak = false): number {
  const want = match >= 8 ? (streak ? max : LONG_GUESSES) : match >= 3 ? 6 : match;
  return Math.min(max, want);
}

/**
 * Verified decoding as a state machine (see blockDecoder): yields its events and a ForwardNeed
 * per forward, resumed with the logits.
 */
export function* verifyDecoder(
  model: DecodingModel,
  promptIds: Int32Array,
  opts: SamplerOptions,
  shouldStop: ((generated: Int32Array) => boolean) | undefined,
  dctx: DecoderContext,
): Decoder {
  if (!model.forwardVerify) {
    throw new Error("mode 'verify' needs a model with forwardVerify (the @seed-diffusion/model Model has it)");
  }
  const { vocabSize: V, maskTokenId: maskId, eosTokenId: eosId, maxSeqLen } = model.config;
  const b = opts.blockSize;
  const L = promptIds.length;
  const limit = Math.min(maxSeqLen, L + opts.maxNewTokens);
  const filters = requestFilters(opts, model.config);
  // Draft rows only propose guesses: their most likely tokens under the same filters.
  const draftFilters: RowFilters = { ...filters, temperature: 0 };
  const uniforms = opts.temperature > 0 ? new Uniforms(opts.seed) : null;
  const t0 = performance.now();
  const stats = newStats('verify', b, L, limit < L + opts.maxNewTokens ? 'context' : 'max_new_tokens');

  // The prompt but its last token goes into the cache causally (b = 1), as mode 'ar' would have it;
  // the last token is the first forward's first clean row.
  const ctx = new Int32Array(limit);
  ctx.set(promptIds);
  const cache: DecodingCache = dctx.newCache(verifyCacheRows(maxSeqLen, limit, b, opts.draftRows));
  let holding = true;
  try {
    if (L > 1) {
      yield { type: 'forward', call: { kind: 'prefill', cache, ids: promptIds.subarray(0, L - 1), block: 1 } };
      stats.prefillForwards = 1;
    }
    stats.prefillSeconds = (performance.now() - t0) / 1000;

    let len = L; // tokens final in ctx (prompt + generated)
    const maxGuess = b - 1;
    let found = contextLookup(ctx, len, maxGuess);
    let guesses = found.guesses.subarray(0, guessBudget(found.match, maxGuess));
    let stopReason: StopReason = stats.stopReason;
    for (let fwd = 0; len < limit; fwd++) {
      const C = cache.length; // = len - 1: the last final token is the first clean row
      // Room: the cache (and positions) must hold the 2k + 2 + d rows written at its tail.
      const room = cache.maxLen - C; // the cache is at most maxSeqLen rows
      const k = Math.max(0, Math.min(guesses.length, b - 1, limit - len - 1, Math.floor((room - 2) / 2)));
      const m = k + 1;
      const d = Math.max(0, Math.min(opts.draftRows, limit - len - m, room - 2 * m));
      const clean = new Int32Array(m);
      clean[0] = ctx[len - 1];
      clean.set(guesses.subarray(0, k), 1);
      yield {
        type: 'block_start',
        block: fwd,
        start: len,
        canvas: Int32Array.from({ length: m }, (_, i) => (i < k ? clean[i + 1] : maskId)),
        fixed: new Uint8Array(m),
        forwards: stats.forwards,
      };
      const logits = (yield { type: 'forward', call: { kind: 'verify', cache, clean, masks: m, draft: d } }) as Tensor;
      let draftTok: Int32Array | null = null; // the draft block's tokens: guesses past the confirmed run
      if (logits.length !== (m + d) * V) {
        throw new Error(`forwardVerify returned ${logits.length / V} logit rows for ${m + d} requested`);
      }
      // One-token row r holds position len + r: generated position len + r − L, AR's draw there.
      const rows = decodeLogitRows(logits, 0, m, V, filters, uniforms ? uniforms.range(len - L, m) : null);
      if (d > 0) draftTok = decodeLogitRows(logits, m, d, V, draftFilters, null).tok;
      stats.forwards++;
      stats.stepForwards++;
      // a[r]: the b = 1 greedy token after clean row r; confirmed guesses, then the token after them.
      let n = 0;
      while (n < k && rows.tok[n] === clean[n + 1]) n++;
      stats.drafted += k;
      stats.accepted += n;
      let take = n + 1;
      let eos = -1;
      for (let i = 0; i < take; i++) {
        const t = i < n ? clean[i + 1] : rows.tok[n];
        if (opts.stopAtEos && t === eosId) {
          eos = i;
          take = i;
          break;
        }
        ctx[len + i] = t;
      }
      // Keep the K/V of the last final token and the confirmed guesses; the token after them is the
      // next forward's first clean row.
      cache.length = C + 1 + n;
      const committed = Array.from({ length: take }, (_, i) => ({
        pos: len + i,
        index: i,
        token: ctx[len + i],
        confidence: rows.prob[i],
      }));
      len += take;
      stats.blocks++;
      yield {
        type: 'step',
        block: fwd,
        start: len - take,
        step: 0,
        phase: 'fill',
        committed,
        rewritten: [],
        canvas: ctx.slice(len - take, len),
        masked: 0,
        forwards: stats.forwards,
      };
      stats.generatedTokens = len - L;
      yield {
        type: 'block_end',
        block: fwd,
        start: len - take,
        canvas: ctx.slice(len - take, len),
        tokens: ctx.slice(len - take, len),
        steps: 1,
        forwards: stats.forwards,
        generated: stats.generatedTokens,
      };
      if (eos >= 0) {
        stopReason = 'eos';
        break;
      }
      if (shouldStop && shouldStop(ctx.slice(L, len))) {
        stopReason = 'stop';
        break;
      }
      if (len >= limit) break;
      // Next guesses: a context match of 3+ tokens; else, when every guess was confirmed, the draft
      // block (it was drafted after them); else a shorter match; else the one-token rows past the
      // first miss (Jacobi iteration: they saw a wrong token, so only JACOBI_GUESSES of them).
      found = contextLookup(ctx, len, maxGuess);
      const streak = n === k && k >= LONG_GUESSES;
      guesses = found.guesses.subarray(0, guessBudget(found.match, maxGuess, streak));
      if (found.match < 3 && n === k && draftTok && d > 1) {
        guesses = draftTok.slice(1, 1 + Math.min(d - 1, maxGuess));
      }
      if (guesses.length === 0) guesses = rows.tok.slice(n + 1, Math.min(m, n + 1 + JACOBI_GUESSES));
    }

    const tokens = ctx.slice(L, len);
    finishStats(stats, tokens, stopReason, t0);
    cache.release?.();
    holding = false;
    yield { type: 'done', tokens, stats };
    return { tokens, stats };
  } finally {
    // Cancelled or failed: the cache's pages go back to the pool.
    if (holding) cache.release?.();
  }
}

/** Cache rows a verify decode may write: the context, plus a forward's 2k + 2 + draft rows past it. */
export function verifyCacheRows(maxSeqLen: number, limit: number, block: number, draftRows: number): number {
  return Math.min(maxSeqLen, limit + 2 * block + draftRows);
}
