// Next-line completion (CodeXGLUE line-level style): the model sees the code up to the start of a
// held-out line and the sampler generates until the first newline. Scored on the line's content
// with surrounding whitespace stripped (the indentation is generated too, but a BPE boundary at the
// newline makes leading spaces a tokenization artefact rather than a modelling one): exact match and
// edit similarity 1 − Levenshtein / max length on characters.
import type { Rng } from '@seed-diffusion/corruption';
import { type DecodingModel, type SamplerOptions, type TextCodec, decode } from '@seed-diffusion/sampler';

import type { HeldOut } from './heldout';
import { sampleSeed, samplerSettings } from './sampling';
import { editSimilarity } from './similarity';
import { type MeasureRun, checkCount } from './stats';

export interface NextLineOptions {
  /** Called after each scored item with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Lines completed per run (default 16). */
  lines?: number;
  /** Context tokens before the line (the last ones; default 96). */
  contextTokens?: number;
  /** Generation budget per line (default 32 tokens). */
  maxLineTokens?: number;
  /** Lines whose stripped content is shorter are not drawn (default 4 characters). */
  minLineChars?: number;
  sampler?: Partial<SamplerOptions>;
  /** Keep each (context tail, truth, prediction) in the result (default false). */
  keepExamples?: boolean;
}

/** A line that can be asked for: document index and [start, end) of its text (end at the '\n'). */
interface LineRef {
  doc: number;
  start: number;
  end: number;
}

const lineCache = new WeakMap<HeldOut, Map<number, LineRef[]>>();

/** Lines after the first of every document with at least minChars of non-space content. */
export function candidateLines(h: HeldOut, minChars: number): LineRef[] {
  let byMin = lineCache.get(h);
  if (!byMin) lineCache.set(h, (byMin = new Map()));
  const hit = byMin.get(minChars);
  if (hit) return hit;
  const out: LineRef[] = [];
  h.texts.forEach((text, doc) => {
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      if (start > 0 && text.slice(start, end).trim().length >= minChars) out.push({ doc, start, end });
      start = end + 1;
    }
  });
  byMin.set(minChars, out);
  return out;
}

/** The last `tokens` tokens of the text before `at` (read from whole lines, so the cut is at a line start). */
export function contextBefore(text: string, at: number, tokens: number, tokenizer: TextCodec): Int32Array {
  let from = Math.max(0, at - tokens * 8);
  if (from > 0) from = text.indexOf('\n', from) + 1 || at;
  const ids = tokenizer.encode(text.slice(from, at));
  return Int32Array.from(ids.slice(Math.max(0, ids.length - tokens)));
}

export interface NextLineExample {
  truth: string;
  prediction: string;
  exact: boolean;
  similarity: number;
}

export function nextLineCompletion(
  model: DecodingModel,
  tokenizer: TextCodec,
  heldOut: HeldOut,
  rng: Rng,
  o: NextLineOptions = {},
): MeasureRun & { examples?: NextLineExample[] } {
  const n = checkCount('next-line lines', o.lines ?? 16);
  const maxNew = checkCount('next-line maxLineTokens', o.maxLineTokens ?? 32);
  if (maxNew >= model.config.maxSeqLen) throw new Error(`next-line maxLineTokens ${maxNew} leaves no context room`);
  // the context is cut to leave the line its budget inside the model's window
  const contextTokens = Math.min(
    checkCount('next-line contextTokens', o.contextTokens ?? 96),
    model.config.maxSeqLen - maxNew,
  );
  const lines = candidateLines(heldOut, o.minLineChars ?? 4);
  if (lines.length === 0) throw new Error(`next-line: the held-out documents have no line to complete`);
  const sampler = { ...o.sampler, maxNewTokens: maxNew, stopAtEos: true };
  const settings = { ...samplerSettings(sampler), contextTokens, maxLineTokens: maxNew, scoredOn: 'stripped line' };
  const examples: NextLineExample[] = [];
  let exact = 0;
  let sim = 0;
  let tokens = 0;
  let forwards = 0;
  let seconds = 0;
  for (let i = 0; i < n; i++) {
    const ref = lines[rng.int(lines.length)];
    const text = heldOut.texts[ref.doc];
    const prompt = contextBefore(text, ref.start, contextTokens, tokenizer);
    const seed = sampleSeed(rng);
    const r = decode(model, prompt, {
      ...sampler,
      seed,
      // stop once a newline is generated: the line is complete
      shouldStop: (g) => tokenizer.decode(g).includes('\n'),
    });
    const generated = tokenizer.decode(r.tokens);
    const nl = generated.indexOf('\n');
    const prediction = (nl >= 0 ? generated.slice(0, nl) : generated).trim();
    const truth = text.slice(ref.start, ref.end).trim();
    const s = editSimilarity(prediction, truth);
    if (prediction === truth) exact++;
    sim += s;
    tokens += r.stats.generatedTokens;
    forwards += r.stats.forwards;
    seconds += r.stats.wallSeconds;
    o.onProgress?.(i + 1, n);
    if (o.keepExamples) examples.push({ truth, prediction, exact: prediction === truth, similarity: s });
  }
  return {
    measure: 'next-line',
    scores: { exactMatch: exact / n, editSimilarity: sim / n },
    samples: n,
    tokens,
    forwards,
    seconds,
    settings,
    ...(o.keepExamples ? { examples } : {}),
  };
}
