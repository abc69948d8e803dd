// Semi-autoregressive block decoding (Seed Diffusion §6.1, BD3-LM §2.4): blocks of b tokens aligned
// to multiples of b from position 0; each block starts as [MASK] (prompt positions kept), is denoised
// by one forward per step while a commit policy unmasks positions, and once final its exact K/V are
// appended to the cache so later blocks attend to clean tokens. See docs/techniques.md §6.6.
import type { Tensor } from '@seed-diffusion/native';

import { confidences, decodeLogitRows, requestFilters, type RowStats } from './decode-rows';
import type { Decoder, DecoderContext, ForwardCall } from './decoder-step';
import type { BlockEndEvent, DoneEvent, PositionChange, Rewrite, StepEvent, StopReason } from './events';
import { finishStats, newStats } from './events';
import type { DecodingCache, DecodingModel } from './model-api';
import { resolveOptions, type SamplerOptions } from './options';
import { CommitPolicy, selectEdits } from './policies';
import { Uniforms } from './rng';

export interface DecodeRequest extends Partial<SamplerOptions> {
  /**
   * Called after each final block with the generated tokens so far; true stops the run there
   * (stop strings are checked this way on decoded text).
   */
  shouldStop?: (generated: Int32Array) => boolean;
}

const MASKED = 0;
const COMMITTED = 1;
const FIXED = 2;

export function splitRequest(req: DecodeRequest): { opts: SamplerOptions; shouldStop?: (g: Int32Array) => boolean } {
  const { shouldStop, ...rest } = req;
  if (shouldStop !== undefined && typeof shouldStop !== 'function') {
    throw new Error('sampler option shouldStop: must be a function');
  }
  return { opts: resolveOptions(rest), shouldStop };
}

/** Checks the prompt against the model and returns it as an Int32Array. */
export function checkPrompt(model: DecodingModel, prompt: ArrayLike<number>): Int32Array {
  const { vocabSize, maxSeqLen, maskTokenId } = model.config;
  if (prompt.length === 0) {
    throw new Error('prompt is empty: give at least one token of context to continue from');
  }
  if (prompt.length >= maxSeqLen) {
    throw new Error(
      `prompt of ${prompt.length} tokens leaves no room in the model's context of ${maxSeqLen} tokens; shorten it`,
    );
  }
  const ids = Int32Array.from(prompt);
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i] >= 0 && ids[i] < vocabSize) || ids[i] === maskTokenId) {
      throw new Error(
        `prompt token ${i} is ${ids[i]}: not an id in [0, ${vocabSize}) other than [MASK] (${maskTokenId})`,
      );
    }
  }
  return ids;
}

/**
 * Block decoding (modes cache, nocache, ar) as a state machine: a generator that yields its
 * events and, for every forward, a ForwardNeed — resumed with that forward's logits (null for a
 * prefill). A driver (decodeSteps for one sequence, DecodeBatch for many) runs the forwards.
 * Its return value is the result; its cache's pages are released when it ends or is cancelled.
 */
export function* blockDecoder(
  model: DecodingModel,
  promptIds: Int32Array,
  opts: SamplerOptions,
  shouldStop: ((generated: Int32Array) => boolean) | undefined,
  ctx: DecoderContext,
): Decoder {
  const { vocabSize: V, maskTokenId: maskId, eosTokenId: eosId, maxSeqLen } = model.config;
  const b = opts.blockSize;
  const L = promptIds.length;
  const limit = Math.min(maxSeqLen, L + opts.maxNewTokens);
  const useCache = opts.mode !== 'nocache';
  const filters = requestFilters(opts, model.config);
  const uniforms = opts.temperature > 0 ? new Uniforms(opts.seed) : null;
  const policy = new CommitPolicy(opts);
  /** Yields a forward and takes its logits back (the driver owns and frees them). */
  function* run(
    call: ForwardCall,
  ): Generator<{ type: 'forward'; call: ForwardCall }, Tensor | null, Tensor | null | undefined> {
    return (yield { type: 'forward', call }) ?? null;
  }

  const t0 = performance.now();
  const canvas = new Int32Array(limit);
  canvas.set(promptIds);
  const stats = newStats(opts.mode, b, L, 'max_new_tokens');

  // Prefill the prompt's complete blocks; the tail shares the first generated block.
  let start = Math.floor(L / b) * b;
  let cache: DecodingCache | null = null;
  try {
    if (useCache) {
      cache = ctx.newCache(limit);
      if (start > 0) {
        yield* run({ kind: 'prefill', cache, ids: promptIds.subarray(0, start), block: b });
        stats.prefillForwards = 1;
      }
      if (cache.length !== start) {
        throw new Error(`model.prefill left the cache at ${cache.length} rows, expected ${start}`);
      }
    }
    stats.prefillSeconds = (performance.now() - t0) / 1000;

    let end = limit; // one past the last generated position kept
    let stopReason: StopReason = limit < L + opts.maxNewTokens ? 'context' : 'max_new_tokens';
    // Cache mode appends a final block's exact K/V either with a separate clean forward (prefill of the
    // block) or fused into the next block's first step: one block-causal forward over [final ; next]
    // that keeps the first rows' K/V. AR decoding is always fused: one forward per token.
    const fuse = useCache && (opts.mode === 'ar' || opts.fuseCommit);
    let pending: Int32Array | null = null; // a final block whose K/V are not yet in the cache
    // Logits only for `need` (block indices a step can change): the head is most of a small model's forward.
    const forwardCall = (n: number, need: Int32Array): ForwardCall => {
      const ids = canvas.slice(start, start + n);
      if (!cache) {
        const rows = need.map((i) => start + i);
        return { kind: 'full', ids: canvas.slice(0, start + n), topology: { mask: 'block_causal', block: b }, rows };
      }
      if (!pending) return { kind: 'block', cache, ids, rows: need };
      const p = pending;
      const both = new Int32Array(p.length + n);
      both.set(p);
      both.set(ids, p.length);
      return { kind: 'block', cache, ids: both, commit: p.length, block: b, rows: need.map((i) => p.length + i) };
    };

    for (let blockIndex = 0; start < limit; blockIndex++) {
      const n = Math.min(b, limit - start);
      const block = canvas.subarray(start, start + n);
      const state = new Uint8Array(n);
      let masked = 0;
      for (let i = 0; i < n; i++) {
        if (start + i < L) state[i] = FIXED;
        else {
          block[i] = maskId;
          masked++;
        }
      }
      policy.begin(masked);
      yield {
        type: 'block_start',
        block: blockIndex,
        start,
        canvas: block.slice(),
        fixed: state.map((s) => (s === FIXED ? 1 : 0)),
        forwards: stats.forwards,
      };

      let step = 0;
      let fillStep = 0;
      let postSteps = 0;
      let eosAt = -1; // index in the block of a completed EOS
      for (;;) {
        const phase = masked > 0 ? 'fill' : 'post';
        // Masked positions, and committed ones when they may be rewritten; never prompt positions.
        const need = Int32Array.from(
          Array.from(state.keys()).filter((i) => state[i] === MASKED || (opts.selfCorrect && state[i] === COMMITTED)),
        );
        const call = forwardCall(n, need);
        const before = cache?.length ?? 0;
        const logits = (yield* run(call)) as Tensor;
        if (call.kind === 'block' && call.commit) {
          if (cache!.length !== before + call.commit) {
            throw new Error(
              `model.forwardBlock(cache, ids, { commit: ${call.commit}, block: ${b} }) left the cache at ${cache!.length} rows, ` +
                `expected ${before + call.commit}: this model cannot fuse commits; decode with fuseCommit: false (not mode 'ar')`,
            );
          }
          pending = null;
          stats.fusedCommits++;
        }
        if (logits.length !== need.length * V) {
          throw new Error(
            `the model returned ${logits.length / V} logit rows for ${need.length} requested: it must support the rows option`,
          );
        }
        stats.stepForwards++;
        stats.forwards++;
        // A uniform for every block position, so a seed samples alike whichever rows are computed.
        const u = uniforms ? uniforms.fill(n) : null;
        const got: RowStats = decodeLogitRows(
          logits,
          0,
          need.length,
          V,
          filters,
          u ? Float32Array.from(need, (i) => u[i]) : null,
        );
        const rows = scatterRows(got, need, n);
        const conf = confidences(rows, opts.confidence);
        const active = state.map((s) => (s === MASKED ? 1 : 0));
        const commits = masked > 0 ? policy.select(conf, active, fillStep++) : [];
        const edits = opts.selfCorrect
          ? selectEdits(
              rows.tok,
              rows.prob,
              block,
              state.map((s) => (s === COMMITTED ? 1 : 0)),
              opts.editThreshold,
            )
          : [];
        const committed: PositionChange[] = commits.map((i) => ({
          pos: start + i,
          index: i,
          token: rows.tok[i],
          confidence: conf[i],
        }));
        const rewritten: Rewrite[] = edits.map((i) => ({
          pos: start + i,
          index: i,
          token: rows.tok[i],
          previous: block[i],
          confidence: rows.prob[i],
        }));
        for (const c of committed) {
          block[c.index] = c.token;
          state[c.index] = COMMITTED;
        }
        for (const r of rewritten) block[r.index] = r.token;
        masked -= committed.length;
        stats.edits += rewritten.length;
        const ev: StepEvent = {
          type: 'step',
          block: blockIndex,
          start,
          step: step++,
          phase,
          committed,
          rewritten,
          canvas: block.slice(),
          masked,
          forwards: stats.forwards,
        };
        yield ev;

        if (opts.stopAtEos) eosAt = completedEos(block, state, eosId);
        if (eosAt >= 0) break;
        if (masked === 0) {
          // §6.6: the filling step counts as the first post step; keep going only while edits occur.
          postSteps++;
          if (!opts.selfCorrect || rewritten.length === 0 || postSteps > opts.maxPostSteps) break;
        }
      }

      stats.blocks++;
      let blockEnd = start + n;
      if (eosAt >= 0) {
        blockEnd = start + eosAt;
        end = blockEnd;
        stopReason = 'eos';
      }
      const newFrom = Math.max(start, L);
      stats.generatedTokens = blockEnd - L;
      const generated = canvas.subarray(L, blockEnd);
      const endEv: BlockEndEvent = {
        type: 'block_end',
        block: blockIndex,
        start,
        canvas: block.slice(),
        tokens: canvas.slice(newFrom, blockEnd),
        steps: step,
        forwards: stats.forwards,
        generated: stats.generatedTokens,
      };
      yield endEv;
      if (eosAt >= 0) break;
      if (shouldStop && shouldStop(generated.slice())) {
        end = blockEnd;
        stopReason = 'stop';
        break;
      }
      if (start + n >= limit) break;
      if (cache && fuse) {
        pending = block.slice();
      } else if (cache) {
        // Append the block's exact K/V, recomputed with its final tokens: one extra (clean) forward.
        yield* run({ kind: 'prefill', cache, ids: block.slice(), block: b });
        stats.commitForwards++;
        stats.forwards++;
        if (cache.length !== start + n) {
          throw new Error(
            `model.prefill of a final block left the cache at ${cache.length} rows, expected ${start + n}`,
          );
        }
      }
      start += n;
    }

    const tokens = canvas.slice(L, end);
    finishStats(stats, tokens, stopReason, t0);
    const done: DoneEvent = { type: 'done', tokens, stats };
    cache?.release?.();
    cache = null;
    yield done;
    return { tokens, stats };
  } finally {
    // Cancelled or failed: the cache's pages go back to the pool.
    cache?.release?.();
  }
}

/** Row statistics of the `need` positions spread back over the block (others: token −1, zeros). */
function scatterRows(got: RowStats, need: Int32Array, n: number): RowStats {
  const out: RowStats = {
    tok: new Int32Array(n).fill(-1),
    prob: new Float32Array(n),
    entropy: new Float32Array(n),
    margin: new Float32Array(n),
  };
  need.forEach((pos, r) => {
    out.tok[pos] = got.tok[r];
    out.prob[pos] = got.prob[r];
    out.entropy[pos] = got.entropy[r];
    out.margin[pos] = got.margin[r];
  });
  return out;
}

/** Index in the block of the first EOS that is committed with every position before it filled, else −1. */
export function completedEos(block: ArrayLike<number>, state: ArrayLike<number>, eosId: number): number {
  for (let i = 0; i < block.length; i++) {
    if (state[i] === MASKED) return -1;
    if (state[i] === COMMITTED && block[i] === eosId) return i;
  }
  return -1;
}
