// Decoding options: defaults, validation with errors that name the field, and unknown-key rejection.
import type { PolicyName } from './policies';

/**
 * 'cache': block decoding over an exact KV cache (each step forwards only the block);
 * 'nocache': every step recomputes the whole canvas with a block-causal forward (reference / baseline);
 * 'ar': autoregressive, one token per block of 1 with the cache: the baseline for speed;
 * 'verify': verified block decoding — up to blockSize tokens per forward, guessed in parallel and
 * kept only as far as b = 1 decoding confirms them in the same forward: the same tokens as 'ar'
 * (greedy, or sampled with the same seed: position i uses AR's uniform draw i).
 */
export type DecodeMode = 'cache' | 'nocache' | 'ar' | 'verify';

/** Confidence used to rank masked positions: top-1 probability, top-1 − top-2, or exp(−entropy). */
export type ConfidenceKind = 'prob' | 'margin' | 'entropy';

export interface SamplerOptions {
  mode: DecodeMode;
  /** Tokens per block b >= 1 (blocks are aligned to multiples of b from position 0). */
  blockSize: number;
  policy: PolicyName;
  /** threshold policy: commit every masked position with confidence >= tau (Fast-dLLM default 0.9). */
  threshold: number;
  /** factor policy: commit the largest n with (n+1)(1 − c_(n)) < factor. */
  factor: number;
  /** fixed policy: denoising steps per block (default blockSize: one token per step). */
  steps?: number;
  confidence: ConfidenceKind;
  /** <= 0: greedy. */
  temperature: number;
  /** 0: off. */
  topK: number;
  /** 1: off. */
  topP: number;
  /** Seeds the uniforms used for sampling (same seed => same output). */
  seed: number;
  maxNewTokens: number;
  /** Stop at the first EOS whose preceding positions are all committed. */
  stopAtEos: boolean;
  /** Never predict EOS (its logit forced to −inf). */
  suppressEos: boolean;
  /** LLaDA2.1 T2T editing of committed, non-prompt tokens of the current block. */
  selfCorrect: boolean;
  /** Rewrite a committed token when the argmax differs with probability > editThreshold. */
  editThreshold: number;
  /**
   * Cache mode: append a final block's K/V inside the next block's first forward (block-causal over
   * [final ; next]) instead of a separate forward. Mode 'ar' always fuses (one forward per token).
   */
  fuseCommit: boolean;
  /** Steps allowed once the block has no masks (the filling step counts as the first). */
  maxPostSteps: number;
  /** mode 'verify': [MASK] rows of a diffusion draft block past the guesses, in each forward. */
  draftRows: number;
}

export const DEFAULT_OPTIONS: Readonly<SamplerOptions> = Object.freeze({
  mode: 'cache',
  blockSize: 32,
  policy: 'threshold',
  threshold: 0.9,
  factor: 1,
  steps: undefined,
  confidence: 'prob',
  temperature: 0,
  topK: 0,
  topP: 1,
  seed: 0,
  maxNewTokens: 256,
  stopAtEos: true,
  suppressEos: false,
  selfCorrect: false,
  editThreshold: 0.9,
  fuseCommit: false,
  maxPostSteps: 8,
  draftRows: 0,
} satisfies SamplerOptions);

/** Default tokens per forward (guesses + 1) of mode 'verify'. */
export const VERIFY_BLOCK = 32;

const KNOWN = new Set(Object.keys(DEFAULT_OPTIONS));

function fail(field: string, why: string, got: unknown): never {
  throw new Error(`sampler option ${field}: ${why}, got ${JSON.stringify(got)}`);
}

/** Fills defaults and validates. Unknown keys are an error (a misspelt option must not be ignored). */
export function resolveOptions(input: Partial<SamplerOptions> = {}): SamplerOptions {
  for (const k of Object.keys(input)) {
    if (!KNOWN.has(k)) throw new Error(`unknown sampler option "${k}"; known: ${[...KNOWN].join(', ')}`);
  }
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const o: SamplerOptions = { ...DEFAULT_OPTIONS, ...defined };
  if (!['cache', 'nocache', 'ar', 'verify'].includes(o.mode)) {
    fail('mode', 'must be cache, nocache, ar or verify', o.mode);
  }
  if (o.mode === 'verify') {
    // blockSize caps the tokens per forward; guessBudget spends rows on long context matches only.
    if (input.blockSize === undefined) o.blockSize = VERIFY_BLOCK;
    if (o.selfCorrect) fail('selfCorrect', "mode 'verify' keeps every confirmed token: it cannot be combined", true);
  }
  if (o.mode === 'ar') {
    if (input.blockSize !== undefined && input.blockSize !== 1) {
      fail('blockSize', "mode 'ar' decodes blocks of one token, so blockSize must be 1 (or left out)", input.blockSize);
    }
    o.blockSize = 1;
  }
  const int = (k: keyof SamplerOptions, min: number) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(k, `must be an integer >= ${min}`, v);
  };
  int('blockSize', 1);
  int('topK', 0);
  int('maxNewTokens', 1);
  int('maxPostSteps', 0);
  int('draftRows', 0);
  int('seed', 0);
  if (o.steps !== undefined) int('steps', 1);
  if (!['threshold', 'fixed', 'factor'].includes(o.policy))
    fail('policy', 'must be threshold, fixed or factor', o.policy);
  if (!['prob', 'margin', 'entropy'].includes(o.confidence)) {
    fail('confidence', 'must be prob, margin or entropy', o.confidence);
  }
  const real = (k: keyof SamplerOptions, ok: (v: number) => boolean, why: string) => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) fail(k, why, v);
  };
  real('threshold', (v) => v >= 0 && v <= 1, 'must be in [0, 1]');
  real('factor', (v) => v > 0, 'must be > 0');
  real('temperature', (v) => v >= 0, 'must be >= 0');
  real('topP', (v) => v > 0 && v <= 1, 'must be in (0, 1]');
  real('editThreshold', (v) => v >= 0 && v <= 1, 'must be in [0, 1]');
  for (const k of ['stopAtEos', 'suppressEos', 'selfCorrect', 'fuseCommit'] as const) {
    if (typeof o[k] !== 'boolean') fail(k, 'must be a boolean', o[k]);
  }
  return o;
}
