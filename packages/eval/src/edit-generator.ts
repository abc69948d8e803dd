// A Generator that edits with the model, in either mode (see edit-prompt.ts).
//
// In place: the instruction comment is prefilled into the KV cache as context; the program's tokens
// are then re-read block by block (blocks aligned to multiples of b in absolute position, as in
// training) and self-corrected against the cache of the corrected blocks before them (rewrite a token
// when the model's greedy prediction differs with probability > threshold, iterate), then committed.
// The answer is the program's tokens only, so the instruction can never end up inside the program.
// This keeps the token count: a fix that adds or removes tokens needs the regenerate mode.
//
// Regenerate: the prompt (program, instruction, head) is decoded by the sampler with its options
// (mode, block size, policy, temperature, seed); the continuation stops where the function ends (the
// first top-level line in Python, the closing "}" in JS) or, for a whole program, at EOS.
import type { Model } from '@seed-diffusion/model';
import { type SamplerOptions, type TextCodec, generateText, resolveOptions } from '@seed-diffusion/sampler';

import { type EditRequest, assembleRegenerated, editPromptText } from './edit-prompt';
import type { GenerateOptions, Generation, Generator } from './generator';
import { samplerSettings } from './measures/sampling';
import { type SelfCorrectOptions, checkSelfCorrect, selfCorrectBlock } from './measures/self-correct';
import { ModelGenerator, defaultEditBlock } from './model-generator';

export interface InPlaceSettings extends SelfCorrectOptions {
  /** Tokens per self-corrected block (default: the largest trained block size <= 16). */
  blockSize?: number;
}

export interface InPlaceResult {
  text: string;
  /** Program tokens read. */
  tokens: number;
  forwards: number;
  rewrites: number;
  seconds: number;
}

/** Re-read `program` after `context` block by block with self-correction (see the file comment). */
export function editInPlace(
  model: Model,
  tokenizer: TextCodec,
  context: string,
  program: string,
  o: InPlaceSettings = {},
): InPlaceResult {
  const t0 = performance.now();
  const sc = checkSelfCorrect({ threshold: o.threshold ?? 0.9, iterations: o.iterations });
  const b = o.blockSize ?? defaultEditBlock(model);
  if (!Number.isInteger(b) || b < 1) throw new Error(`edit blockSize must be a positive integer, got ${b}`);
  const max = model.config.maxSeqLen;
  let ctx = Int32Array.from(context ? tokenizer.encode(context) : []);
  // the context gives way to the program: keep at most half the window of it
  if (ctx.length > max >> 1) ctx = ctx.subarray(ctx.length - (max >> 1));
  const ids = Int32Array.from(tokenizer.encode(program));
  const n = Math.min(ids.length, max - ctx.length);
  let forwards = 0;
  let rewrites = 0;
  if (n > 0) {
    const cache = model.newCache(ctx.length + n);
    try {
      if (ctx.length > 0) {
        model.prefill(cache, ctx.slice(), b);
        forwards++;
      }
      for (let start = 0; start < n;) {
        const pos = ctx.length + start;
        const end = Math.min(n, start + (b - (pos % b)));
        const block = ids.subarray(start, end);
        const r = selfCorrectBlock(model, cache, block, sc);
        forwards += r.forwards;
        rewrites += r.rewrites;
        if (end < n) {
          model.prefill(cache, block.slice(), b);
          forwards++;
        }
        start = end;
      }
    } finally {
      cache.dispose();
    }
  }
  const text = rewrites === 0 ? program : tokenizer.decode(ids);
  return { text, tokens: n, forwards, rewrites, seconds: (performance.now() - t0) / 1000 };
}

export interface ModelEditOptions {
  /** Sampler options for regenerate mode (mode, block size, policy, threshold, temperature, maxNewTokens). */
  sampler?: Partial<SamplerOptions>;
  /** Self-correction for in-place mode (default threshold 0.9: a false edit breaks a program). */
  inPlace?: InPlaceSettings;
  name?: string;
}

export class ModelEditGenerator implements Generator {
  readonly name: string;
  readonly settings: Record<string, unknown>;
  private readonly sampler: Partial<SamplerOptions>;
  private readonly inPlace: InPlaceSettings;
  private readonly completer: ModelGenerator;

  constructor(
    private readonly model: Model,
    private readonly tokenizer: TextCodec,
    o: ModelEditOptions = {},
  ) {
    this.name = o.name ?? 'seed-diffusion';
    this.sampler = { ...o.sampler };
    const resolved = resolveOptions(this.sampler); // validate once, before any task runs
    const sc = checkSelfCorrect({ threshold: o.inPlace?.threshold ?? 0.9, iterations: o.inPlace?.iterations });
    this.inPlace = { ...sc, blockSize: o.inPlace?.blockSize ?? defaultEditBlock(model) };
    this.completer = new ModelGenerator(model, tokenizer, { sampler: this.sampler, name: this.name });
    this.settings = {
      inPlace: { method: 'instruction comment as context, block-by-block self-correction', ...this.inPlace },
      regenerate: {
        method: 'program, instruction comment, function head; the sampler writes the body',
        ...samplerSettings(this.sampler),
        maxNewTokens: resolved.maxNewTokens,
        stop: 'function end (first top-level line / closing "}"); whole programs: EOS',
      },
      parameters: model.numParameters,
    };
  }

  async generate(prompt: string, opts: GenerateOptions): Promise<Generation> {
    const r: EditRequest | undefined = opts.edit;
    if (!r) throw new Error(`${this.name}: task ${opts.taskId} is not an editing request`);
    if (r.mode === 'in-place') {
      const e = editInPlace(this.model, this.tokenizer, r.context, r.program, this.inPlace);
      return { text: e.text, raw: e.text, tokens: e.tokens, forwards: e.forwards, seconds: e.seconds };
    }
    const text = editPromptText(r);
    if (r.head) {
      const g = await this.completer.generate(text, { ...opts, mode: 'complete' });
      return { ...g, text: assembleRegenerated(r, g.text), raw: g.text };
    }
    // a whole program: room for a somewhat longer one than the original, ended by EOS
    const budget = Math.max(
      resolveOptions(this.sampler).maxNewTokens,
      Math.ceil(this.tokenizer.encode(r.program).length * 1.25) + 32,
    );
    const ids = this.tokenizer.encode(text);
    const keep = this.model.config.maxSeqLen - Math.min(budget, this.model.config.maxSeqLen >> 1);
    const promptText = ids.length > keep ? this.tokenizer.decode(ids.slice(ids.length - keep)) : text;
    const g = await generateText(this.model, this.tokenizer, promptText, {
      ...this.sampler,
      maxNewTokens: Math.min(budget, this.model.config.maxSeqLen - Math.min(ids.length, keep)),
      seed: opts.seed >>> 0,
    });
    return {
      text: g.text,
      raw: g.text,
      tokens: g.stats.generatedTokens,
      forwards: g.stats.forwards,
      seconds: g.stats.wallSeconds,
    };
  }
}
