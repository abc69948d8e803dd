// A text generator with the shape @seed-diffusion/eval's Generator expects (name, settings,
// generate(prompt, { seed, mode }) => { text, tokens, forwards, seconds }), so evaluation can score
// the sampler directly. Structural: this package does not depend on eval (eval depends on it).
import type { DecodingModel } from './model-api';
import { resolveOptions } from './options';
import { generateText, type TextCodec, type TextRequest } from './stream';

export interface GeneratorCall {
  /** Per-sample seed (used when sampling, temperature > 0). */
  seed?: number;
  /** Only 'complete' (continue the prompt) is a decoding task here. */
  mode?: 'complete' | 'edit';
}

export class DiffusionGenerator {
  readonly settings: Record<string, unknown>;

  constructor(
    private readonly model: DecodingModel,
    private readonly tokenizer: TextCodec,
    private readonly request: Omit<TextRequest, 'onEvent'> = {},
    readonly name = 'seed-diffusion sampler',
  ) {
    const { stop, ...opts } = request;
    // Validate once up front, and record every setting next to the scores.
    this.settings = { ...resolveOptions(opts), stop: stop ?? [] };
  }

  async generate(
    prompt: string,
    call: GeneratorCall = {},
  ): Promise<{ text: string; tokens: number; forwards: number; seconds: number }> {
    if (call.mode === 'edit') throw new Error(`${this.name}: edit tasks are not supported (mode 'complete' only)`);
    const seed = call.seed === undefined ? this.request.seed : call.seed >>> 0;
    const r = await generateText(this.model, this.tokenizer, prompt, { ...this.request, seed });
    return { text: r.text, tokens: r.stats.generatedTokens, forwards: r.stats.forwards, seconds: r.stats.wallSeconds };
  }
}
