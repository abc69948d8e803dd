// Model configuration: the in-memory form, presets, validation and the HF config.json mapping.

/** How attention is arranged when the model is trained (and therefore how it may decode exactly). */
export type AttentionTopology = 'block_diff' | 'bidir' | 'block_causal';

export interface ModelConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Per-head dimension; hiddenSize / numHeads unless given. */
  headDim: number;
  intermediateSize: number;
  maxSeqLen: number;
  ropeTheta: number;
  /** false: NeoX / HF rotate_half layout (default); true: interleaved GPT-J pairs. */
  ropeInterleaved: boolean;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  /** Bias on the q, k and v projections (Qwen2 style). */
  qkvBias: boolean;
  maskTokenId: number;
  eosTokenId: number;
  padTokenId: number;
  /** Dream convention: the logit at position i comes from hidden state i-1 (position 0 from itself). */
  shiftLogits: boolean;
  attentionTopology: AttentionTopology;
  /** Block sizes the block-diffusion objective was trained with (1 = autoregressive). */
  trainedBlockSizes: number[];
  /** Standard deviation of the normal initialisation. */
  initStd: number;
}

export type ModelConfigInput = Partial<ModelConfig> &
  Pick<ModelConfig, 'vocabSize' | 'hiddenSize' | 'numLayers' | 'numHeads' | 'maskTokenId' | 'eosTokenId'>;

/** Fills defaults and validates; throws naming the offending field. */
export function makeConfig(c: ModelConfigInput): ModelConfig {
  const numKvHeads = c.numKvHeads ?? c.numHeads;
  const cfg: ModelConfig = {
    vocabSize: c.vocabSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    numHeads: c.numHeads,
    numKvHeads,
    headDim: c.headDim ?? c.hiddenSize / c.numHeads,
    intermediateSize: c.intermediateSize ?? defaultIntermediate(c.hiddenSize),
    maxSeqLen: c.maxSeqLen ?? 512,
    ropeTheta: c.ropeTheta ?? 10000,
    ropeInterleaved: c.ropeInterleaved ?? false,
    rmsNormEps: c.rmsNormEps ?? 1e-5,
    tieWordEmbeddings: c.tieWordEmbeddings ?? true,
    qkvBias: c.qkvBias ?? false,
    maskTokenId: c.maskTokenId,
    eosTokenId: c.eosTokenId,
    padTokenId: c.padTokenId ?? c.eosTokenId,
    shiftLogits: c.shiftLogits ?? false,
    attentionTopology: c.attentionTopology ?? 'block_diff',
    trainedBlockSizes: c.trainedBlockSizes ?? [1, 4, 8, 16, 32],
    initStd: c.initStd ?? 0.02,
  };
  validateConfig(cfg);
  return cfg;
}

/** SwiGLU width ≈ 8/3·d rounded up to a multiple of 32 (LLaMA's rule). */
function defaultIntermediate(d: number): number {
  return Math.ceil((8 * d) / 3 / 32) * 32;
}

export function validateConfig(c: ModelConfig): void {
  const ints: (keyof ModelConfig)[] = [
    'vocabSize',
    'hiddenSize',
    'numLayers',
    'numHeads',
    'numKvHeads',
    'headDim',
    'intermediateSize',
    'maxSeqLen',
  ];
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new Error(`model config: ${k} must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  if (c.numHeads % c.numKvHeads !== 0) {
    throw new Error(`model config: numHeads (${c.numHeads}) must be a multiple of numKvHeads (${c.numKvHeads})`);
  }
  if (c.headDim % 2 !== 0) throw new Error(`model config: headDim must be even for RoPE, got ${c.headDim}`);
  for (const k of ['maskTokenId', 'eosTokenId', 'padTokenId'] as const) {
    const v = c[k];
    if (!Number.isInteger(v) || v < 0 || v >= c.vocabSize) {
      throw new Error(`model config: ${k} must be an id in [0, ${c.vocabSize}), got ${v}`);
    }
  }
  for (const k of ['ropeTheta', 'rmsNormEps', 'initStd'] as const) {
    if (!(c[k] > 0 && Number.isFinite(c[k]))) throw new Error(`model config: ${k} must be > 0, got ${c[k]}`);
  }
  if (!['block_diff', 'bidir', 'block_causal'].includes(c.attentionTopology)) {
    throw new Error(
      `model config: attentionTopology must be block_diff, bidir or block_causal, got ${c.attentionTopology}`,
    );
  }
  if (!Array.isArray(c.trainedBlockSizes) || c.trainedBlockSizes.some((b) => !Number.isInteger(b) || b < 1)) {
    throw new Error(
      `model config: trainedBlockSizes must be positive integers, got ${JSON.stringify(c.trainedBlockSizes)}`,
    );
  }
}

/**
 * Named presets. `small` is the default model (≈7.5M parameters with an 8k vocabulary):
 * d 256, 6 layers, 4 heads of 64 with 2 KV heads, SwiGLU 704, context 512. Sized so that
 * ~40 minutes of training on 2 CPU cores sees on the order of a million tokens.
 */
export const PRESETS: Record<string, Omit<ModelConfigInput, 'vocabSize' | 'maskTokenId' | 'eosTokenId'>> = {
  tiny: { hiddenSize: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, intermediateSize: 176, maxSeqLen: 256 },
  small: { hiddenSize: 256, numLayers: 6, numHeads: 4, numKvHeads: 2, intermediateSize: 704, maxSeqLen: 512 },
  base: { hiddenSize: 384, numLayers: 6, numHeads: 6, numKvHeads: 2, intermediateSize: 1024, maxSeqLen: 512 },
};

/** Number of parameters of a configuration. */
export function parameterCount(c: ModelConfig): number {
  const d = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const perLayer = 2 * d + d * qd + 2 * d * kvd + qd * d + 3 * d * c.intermediateSize + (c.qkvBias ? qd + 2 * kvd : 0);
  return c.vocabSize * d * (c.tieWordEmbeddings ? 1 : 2) + c.numLayers * perLayer + d;
}

/** HF config.json (Llama / Qwen2 field names) plus the diffusion fields. */
export function toHFConfig(c: ModelConfig): Record<string, unknown> {
  return {
    architectures: [c.qkvBias ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: c.qkvBias ? 'qwen2' : 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    intermediate_size: c.intermediateSize,
    max_position_embeddings: c.maxSeqLen,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.rmsNormEps,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.qkvBias,
    mlp_bias: false,
    hidden_act: 'silu',
    torch_dtype: 'float32',
    bos_token_id: null,
    eos_token_id: c.eosTokenId,
    pad_token_id: c.padTokenId,
    mask_token_id: c.maskTokenId,
    initializer_range: c.initStd,
    // seed-diffusion fields (ignored by transformers)
    rope_interleaved: c.ropeInterleaved,
    shift_logits: c.shiftLogits,
    attention_topology: c.attentionTopology,
    trained_block_sizes: c.trainedBlockSizes,
  };
}

/** Reads an HF config.json object (Llama, Qwen2 and this project's fields). */
export function fromHFConfig(j: Record<string, unknown>): ModelConfig {
  const need = (k: string): number => {
    const v = j[k];
    if (typeof v !== 'number') throw new Error(`config.json: field "${k}" is missing or not a number`);
    return v;
  };
  const opt = <T>(k: string, d: T): T => (j[k] === undefined || j[k] === null ? d : (j[k] as T));
  const eos = Array.isArray(j.eos_token_id) ? (j.eos_token_id as number[])[0] : opt('eos_token_id', 0);
  return makeConfig({
    vocabSize: need('vocab_size'),
    hiddenSize: need('hidden_size'),
    numLayers: need('num_hidden_layers'),
    numHeads: need('num_attention_heads'),
    numKvHeads: opt('num_key_value_heads', need('num_attention_heads')),
    headDim: opt('head_dim', undefined as unknown as number) ?? need('hidden_size') / need('num_attention_heads'),
    intermediateSize: need('intermediate_size'),
    maxSeqLen: opt('max_position_embeddings', 512),
    ropeTheta: opt('rope_theta', 10000),
    ropeInterleaved: opt('rope_interleaved', false),
    rmsNormEps: opt('rms_norm_eps', 1e-5),
    tieWordEmbeddings: opt('tie_word_embeddings', false),
    qkvBias: opt('attention_bias', j.model_type === 'qwen2'),
    maskTokenId: need('mask_token_id'),
    eosTokenId: eos,
    padTokenId: opt('pad_token_id', eos),
    shiftLogits: opt('shift_logits', false),
    attentionTopology: opt('attention_topology', 'bidir'),
    trainedBlockSizes: opt('trained_block_sizes', []),
    initStd: opt('initializer_range', 0.02),
  });
}
