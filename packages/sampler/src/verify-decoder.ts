// Verified block decoding (mode 'verify'): a lossless way to get several tokens per forward from a
// diffusion model that is consistent but not confident. Each forward holds, against the KV cache,
//   clean rows   [last final token, g_1 … g_k]   (k guesses for the next positions),
//   k + 1 one-token [MASK] rows                 (what b = 1 decoding computes after each clean row),
//   optionally a draft block of [MASK] rows    (the diffusion model's parallel guess past g_k),
// in one call (mask 'verify' of sd_ops.h). The one-token rows give the b = 1 greedy token after
// every prefix of the guesses, so the longest run of guesses they confirm, plus the token after
// it, is exactly what mode 'ar' would have produced — in one forward instead of n + 1. The
// confirmed rows' K/V are already in the cache tail, computed as b = 1 decoding computes them.
// Guesses for the next forward: the continuation of the latest earlier occurrence of the context's
// last tokens (prompt lookup: code repeats itself); else the draft block when every guess was
// confirmed (it was drafted after them); else the one-token rows past the first miss (Jacobi
// iteration). On the embedded model the draft block did not pay for its rows (BENCHMARKS.md), so
// draftRows defaults to 0; a model whose parallel predictions agree with its b = 1 chain gains.
// Same idea as self-speculative decoding for diffusion LMs (SSD, arXiv 2510.04147), with the
// b = 1 chain of a block-diffusion model as the target instead of the model's own block steps.
import { backend } from '@seed-diffusion/native';

import { decodeLogitRows, type RowFilters } from './decode-rows';
import { finishStats, newStats, type DecodeEvent, type StopReason } from './events';
import type { DecodeResult } from './block-decoder';
import type { DecodingModel } from './model-api';
import type { SamplerOptions } from './options';

/** Longest n-gram (n = 3, 2, 1) ending the context that occurred before: the tokens after its latest occurrence. */
export function promptLookup(ctx: Int32Array, len: number, max: number): Int32Array {
  for (let n = Math.min(3, len - 1); n >= 1; n--) {
    for (let j = len - n - 1; j >= 0; j--) {
      let ok = true;
      for (let q = 0; q < n; q++) {
        if (ctx[j + q] !== ctx[len - n + q]) {
          ok = false;
          break;
        }
      }
      if (ok) return ctx.slice(j + n, Math.min(j + n + max, len));
    }
  }
  return new Int32Array(0);
}

export function* decodeVerifiedSteps(
  model: DecodingModel,
  promptIds: Int32Array,
  opts: SamplerOptions,
  shouldStop?: (generated: Int32Array) => boolean,
): Generator<DecodeEvent, DecodeResult, void> {
  if (!model.forwardVerify) {
    throw new Error("mode 'verify' needs a model with forwardVerify (the @seed-diffusion/model Model has it)");
  }
  const forwardVerify = model.forwardVerify.bind(model);
  const { vocabSize: V, maskTokenId: maskId, eosTokenId: eosId, maxSeqLen } = model.config;
  const b = opts.blockSize;
  const L = promptIds.length;
  const limit = Math.min(maxSeqLen, L + opts.maxNewTokens);
  const filters: RowFilters = { maskId, banId: opts.suppressEos ? eosId : -1, temperature: 0, topK: 0, topP: 1 };
  const bk = backend();
  const t0 = performance.now();
  const stats = newStats('verify', b, L, limit < L + opts.maxNewTokens ? 'context' : 'max_new_tokens');

  // The prompt but its last token goes into the cache causally (b = 1), as mode 'ar' would have it;
  // the last token is the first forward's first clean row.
  const ctx = new Int32Array(limit);
  ctx.set(promptIds);
  const cache = model.newCache(Math.min(maxSeqLen, limit + 2 * b + opts.draftRows));
  if (L > 1) {
    model.prefill(cache, promptIds.subarray(0, L - 1), 1);
    stats.prefillForwards = 1;
  }
  stats.prefillSeconds = (performance.now() - t0) / 1000;

  let len = L; // tokens final in ctx (prompt + generated)
  let guesses = promptLookup(ctx, len, b - 1);
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
    const logits = forwardVerify(cache, clean, { masks: m, draft: d });
    let rows;
    try {
      if (logits.length !== (m + d) * V) {
        throw new Error(`forwardVerify returned ${logits.length / V} logit rows for ${m + d} requested`);
      }
      rows = decodeLogitRows(logits, 0, m + d, V, filters, null);
    } finally {
      bk.free(logits);
    }
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
    const maxGuess = b - 1;
    guesses = promptLookup(ctx, len, maxGuess);
    if (guesses.length === 0 && n === k && d > 1) {
      // Every guess confirmed: the draft block started at the new last token's position.
      guesses = Int32Array.from({ length: Math.min(d - 1, maxGuess) }, (_, j) => rows.tok[m + 1 + j]);
    }
    if (guesses.length === 0) guesses = rows.tok.slice(n + 1, m);
  }

  const tokens = ctx.slice(L, len);
  finishStats(stats, tokens, stopReason, t0);
  yield { type: 'done', tokens, stats };
  return { tokens, stats };
}
