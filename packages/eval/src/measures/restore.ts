// Restore rate of masked spans: s held-out tokens right after a left context are masked and the
// block decoder fills exactly those s positions (known-length infilling: the canvas ends where the
// span ends, so the last block is cut to the span). The model is block-causal between blocks, so the
// code to the right of the span is not visible to it: this measures filling from the left only.
import type { Rng } from '@seed-diffusion/corruption';
import { type DecodingModel, type SamplerOptions, decode } from '@seed-diffusion/sampler';

import type { HeldOut } from './heldout';
import { sampleSeed, samplerSettings } from './sampling';
import { type MeasureRun, checkCount } from './stats';

export interface RestoreOptions {
  /** Called after each scored item with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Spans per run (default 16). */
  spans?: number;
  /** Tokens per span (default 8). */
  spanLength?: number;
  /** Left-context tokens (default 96; fewer where the document starts closer). */
  contextTokens?: number;
  /** Fewest context tokens a span may have (default 16). */
  minContext?: number;
  sampler?: Partial<SamplerOptions>;
}

/** Draws a (document, position) with at least minContext tokens before and span tokens from it. */
export function drawSpan(h: HeldOut, rng: Rng, minContext: number, span: number): { doc: number; at: number } {
  const fits = (d: Int32Array) => d.length >= minContext + span;
  let total = 0;
  for (const d of h.docs) if (fits(d)) total += d.length - minContext - span + 1;
  if (total === 0)
    throw new Error(`no held-out document has ${minContext + span} tokens (context ${minContext} + span ${span})`);
  // uniform over all valid positions of all documents
  let r = rng.int(total);
  for (let doc = 0; doc < h.docs.length; doc++) {
    const d = h.docs[doc];
    if (!fits(d)) continue;
    const k = d.length - minContext - span + 1;
    if (r < k) return { doc, at: minContext + r };
    r -= k;
  }
  throw new Error('internal: drawSpan ran past the documents');
}

export function restoreSpans(model: DecodingModel, heldOut: HeldOut, rng: Rng, o: RestoreOptions = {}): MeasureRun {
  const n = checkCount('restore spans', o.spans ?? 16);
  const span = checkCount('restore spanLength', o.spanLength ?? 8);
  const minContext = checkCount('restore minContext', o.minContext ?? 16);
  const contextTokens = Math.min(
    checkCount('restore contextTokens', o.contextTokens ?? 96),
    model.config.maxSeqLen - span,
  );
  if (contextTokens < minContext)
    throw new Error(
      `restore: the model's window leaves ${contextTokens} context tokens, fewer than minContext ${minContext}`,
    );
  const sampler = { ...o.sampler, maxNewTokens: span, stopAtEos: false, suppressEos: true };
  const settings = {
    ...samplerSettings(sampler),
    spanLength: span,
    contextTokens,
    rightContext: 'not visible (block-causal)',
  };
  let restored = 0;
  let whole = 0;
  let tokens = 0;
  let forwards = 0;
  let seconds = 0;
  for (let i = 0; i < n; i++) {
    const { doc, at } = drawSpan(heldOut, rng, minContext, span);
    const d = heldOut.docs[doc];
    const prompt = d.subarray(Math.max(0, at - contextTokens), at);
    const truth = d.subarray(at, at + span);
    const r = decode(model, prompt, { ...sampler, seed: sampleSeed(rng) });
    let ok = 0;
    for (let j = 0; j < span; j++) if (r.tokens[j] === truth[j]) ok++;
    restored += ok;
    if (ok === span) whole++;
    tokens += r.stats.generatedTokens;
    forwards += r.stats.forwards;
    seconds += r.stats.wallSeconds;
    o.onProgress?.(i + 1, n);
  }
  return {
    measure: 'restore',
    scores: { tokenRestoreRate: restored / (n * span), spanRestoreRate: whole / n },
    samples: n,
    tokens,
    forwards,
    seconds,
    settings,
  };
}
