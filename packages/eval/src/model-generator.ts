// A Generator backed by the model: completions come from the block-diffusion sampler, edits from
// block-by-block self-correction of the broken program.
//
// Completion ('complete'): the prompt is encoded (its oldest tokens dropped if it would not leave the
// generation budget inside the model's window) and decoded block by block with the KV cache; decoding
// stops at the first top-level line (Python: a line starting with a non-space character, i.e. the
// function body has ended; JS/TS: the line "}" that closes it), at EOS, or at maxNewTokens.
//
// Editing ('edit'): the model gets the broken program (the instruction line of the edit prompt is
// dropped: the model is not instruction-tuned) and re-reads it block by block: each block of b tokens
// is self-corrected against the cache of the blocks already corrected (rewrite a token when the
// model's greedy prediction differs with probability > threshold, iterate), then committed to the
// cache. This is the edit stage's substitution repair applied to a whole program; it keeps the token
// count, so a fix that needs a different number of tokens (most insertions/deletions) is out of
// reach. Tokens past the model's window are left unchanged.
import type { Model } from '@seed-diffusion/model';
import {
  type DecodeResult,
  type SamplerOptions,
  type TextCodec,
  decodeEvents,
  resolveOptions,
} from '@seed-diffusion/sampler';

import type { GenerateOptions, Generation, Generator } from './generator';
import { samplerSettings } from './measures/sampling';
import { type SelfCorrectOptions, checkSelfCorrect, selfCorrectBlock } from './measures/self-correct';
import { EDIT_INSTRUCTION } from './plant';
import type { Language } from './types';

export interface EditSettings extends SelfCorrectOptions {
  /** Tokens per self-corrected block (default: the largest trained block size <= 16). */
  blockSize?: number;
}

export interface ModelGeneratorOptions {
  /** Sampler options for completions (block size, policy, threshold, temperature, maxNewTokens, ...). */
  sampler?: Partial<SamplerOptions>;
  /** Self-correction settings for editing (default threshold 0.9: a false edit breaks a program). */
  edit?: EditSettings;
  name?: string;
}

/**
 * Where a completion ends: the index at which to cut `text`, or −1 while the body is still open.
 * Python: the '\n' before the first line that starts with a non-space character. JS/TS: just after
 * the first line that is a lone '}' at column 0 (the closing brace of the prompt's function).
 */
export function completionStop(text: string, language: Language): number {
  if (language === 'python') {
    const m = /\n(?=\S)/.exec(text);
    return m ? m.index : -1;
  }
  const m = /(^|\n)\}[ \t]*(\n|$)/.exec(text);
  if (!m || (m.index + m[0].length === text.length && !m[0].endsWith('\n'))) return -1;
  return m.index + m[0].length;
}

export interface EditResult {
  text: string;
  tokens: number;
  forwards: number;
  rewrites: number;
  seconds: number;
}

/** The block size editing uses when none is given. */
export function defaultEditBlock(model: Model): number {
  const fits = model.config.trainedBlockSizes.filter((b) => b <= 16);
  return fits.length > 0 ? Math.max(...fits) : 16;
}

/** Re-reads `program` block by block with self-correction (see the file comment). */
export function editProgram(model: Model, tokenizer: TextCodec, program: string, o: EditSettings = {}): EditResult {
  const t0 = performance.now();
  const sc = checkSelfCorrect({ threshold: o.threshold ?? 0.9, iterations: o.iterations });
  const b = o.blockSize ?? defaultEditBlock(model);
  if (!Number.isInteger(b) || b < 1) throw new Error(`edit blockSize must be a positive integer, got ${b}`);
  const ids = Int32Array.from(tokenizer.encode(program));
  const n = Math.min(ids.length, model.config.maxSeqLen);
  let forwards = 0;
  let rewrites = 0;
  if (n > 0) {
    const cache = model.newCache(n);
    for (let start = 0; start < n; start += b) {
      const block = ids.subarray(start, Math.min(start + b, n));
      const r = selfCorrectBlock(model, cache, block, sc);
      forwards += r.forwards;
      rewrites += r.rewrites;
      if (start + b < n) {
        model.prefill(cache, block.slice(), b);
        forwards++;
      }
    }
  }
  const text = rewrites === 0 ? program : tokenizer.decode(ids);
  return { text, tokens: n, forwards, rewrites, seconds: (performance.now() - t0) / 1000 };
}

export class ModelGenerator implements Generator {
  readonly name: string;
  readonly settings: Record<string, unknown>;
  private readonly sampler: Partial<SamplerOptions>;
  private readonly edit: EditSettings;

  constructor(
    private readonly model: Model,
    private readonly tokenizer: TextCodec,
    o: ModelGeneratorOptions = {},
  ) {
    this.name = o.name ?? 'seed-diffusion';
    this.sampler = { ...o.sampler };
    const resolved = resolveOptions(this.sampler); // validate once, before any task runs
    const sc = checkSelfCorrect({ threshold: o.edit?.threshold ?? 0.9, iterations: o.edit?.iterations });
    this.edit = { ...sc, blockSize: o.edit?.blockSize ?? defaultEditBlock(model) };
    this.settings = {
      ...samplerSettings(this.sampler),
      maxNewTokens: resolved.maxNewTokens,
      stop: 'first top-level line (python) / closing "}" (js, ts), EOS, maxNewTokens',
      edit: { method: 'block-by-block self-correction of the broken program', ...this.edit },
      parameters: model.numParameters,
    };
  }

  async generate(prompt: string, opts: GenerateOptions): Promise<Generation> {
    if (opts.mode === 'edit') {
      // an editing request carries the program apart from its instruction (ModelEditGenerator also
      // gives the instruction to the model as context; this generator re-reads the program alone)
      const program =
        opts.edit?.program ??
        (prompt.startsWith(`${EDIT_INSTRUCTION}\n\n`) ? prompt.slice(EDIT_INSTRUCTION.length + 2) : prompt);
      const r = editProgram(this.model, this.tokenizer, program, this.edit);
      return { text: r.text, tokens: r.tokens, forwards: r.forwards, seconds: r.seconds };
    }
    const o = resolveOptions(this.sampler);
    const max = this.model.config.maxSeqLen;
    let ids = this.tokenizer.encode(prompt);
    // keep the newest prompt tokens: room for the whole budget, but never less than half the window
    const keep = Math.max(max - o.maxNewTokens, Math.floor(max / 2));
    if (ids.length > keep) ids = ids.slice(ids.length - keep);
    const it = decodeEvents(this.model, ids, {
      ...this.sampler,
      seed: opts.seed >>> 0,
      shouldStop: (g) => completionStop(this.tokenizer.decode(g), opts.language) >= 0,
    });
    let result: DecodeResult;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        result = r.value;
        break;
      }
    }
    const text = this.tokenizer.decode(result.tokens);
    const cut = completionStop(text, opts.language);
    return {
      text: cut >= 0 ? text.slice(0, cut) : text,
      tokens: result.stats.generatedTokens,
      forwards: result.stats.forwards,
      seconds: result.stats.wallSeconds,
    };
  }
}
