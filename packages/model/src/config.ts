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

/** Reads an HF config.json object (Llama, Qwen2 and this project's fields), strictly typed. */
export function fromHFConfig(j: Record<string, unknown>): ModelConfig {
  const show = (v: unknown) => JSON.stringify(v);
  const absent = (k: string) => j[k] === undefined || j[k] === null;
  const num = (k: string, d?: number): number => {
    if (absent(k)) {
      if (d === undefined) throw new Error(`field "${k}" is missing`);
      return d;
    }
    const v = j[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`field "${k}" must be a number, got ${show(v)}`);
    return v;
  };
  const int = (k: string, d?: number): number => {
    const v = num(k, d);
    if (!Number.isSafeInteger(v)) throw new Error(`field "${k}" must be an integer, got ${show(j[k])}`);
    return v;
  };
  const bool = (k: string, d: boolean): boolean => {
    if (absent(k)) return d;
    const v = j[k];
    // No truthy strings: "false" is not false.
    if (typeof v !== 'boolean') throw new Error(`field "${k}" must be true or false, got ${show(v)}`);
    return v;
  };
  const str = (k: string, d: string): string => {
    if (absent(k)) return d;
    const v = j[k];
    if (typeof v !== 'string') throw new Error(`field "${k}" must be a string, got ${show(v)}`);
    return v;
  };
  // Features this model does not implement: reading past them would compute a different network.
  const modelType = str('model_type', 'llama');
  if (!['llama', 'qwen2', 'mistral'].includes(modelType)) {
    throw new Error(`field "model_type" ${show(modelType)} is not supported (llama, qwen2)`);
  }
  const act = str('hidden_act', 'silu');
  if (act !== 'silu') throw new Error(`field "hidden_act" ${show(act)} is not supported (only "silu")`);
  if (bool('mlp_bias', false)) throw new Error('field "mlp_bias" true is not supported');
  if (!absent('rope_scaling')) throw new Error(`field "rope_scaling" ${show(j.rope_scaling)} is not supported`);
  if (bool('use_sliding_window', false)) throw new Error('field "use_sliding_window" true is not supported');
  if (!absent('partial_rotary_factor') && num('partial_rotary_factor') !== 1) {
    throw new Error(`field "partial_rotary_factor" ${show(j.partial_rotary_factor)} is not supported (only 1)`);
  }
  let eos: number;
  if (Array.isArray(j.eos_token_id)) {
    const list = j.eos_token_id as unknown[];
    if (list.length === 0 || list.some((v) => !Number.isSafeInteger(v))) {
      throw new Error(`field "eos_token_id" must be an integer or a non-empty list of integers, got ${show(list)}`);
    }
    eos = list[0] as number;
  } else eos = int('eos_token_id', 0);
  let blocks: number[] = [];
  if (!absent('trained_block_sizes')) {
    const v = j.trained_block_sizes;
    if (!Array.isArray(v) || v.some((b) => !Number.isSafeInteger(b))) {
      throw new Error(`field "trained_block_sizes" must be a list of integers, got ${show(v)}`);
    }
    blocks = v as number[];
  }
  const topology = str('attention_topology', 'bidir');
  const heads = int('num_attention_heads');
  const hidden = int('hidden_size');
  return makeConfig({
    vocabSize: int('vocab_size'),
    hiddenSize: hidden,
    numLayers: int('num_hidden_layers'),
    numHeads: heads,
    numKvHeads: int('num_key_value_heads', heads),
    headDim: absent('head_dim') ? hidden / heads : int('head_dim'),
    intermediateSize: int('intermediate_size'),
    maxSeqLen: int('max_position_embeddings', 512),
    ropeTheta: num('rope_theta', 10000),
    ropeInterleaved: bool('rope_interleaved', false),
    rmsNormEps: num('rms_norm_eps', 1e-5),
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    qkvBias: bool('attention_bias', modelType === 'qwen2'),
    maskTokenId: int('mask_token_id'),
    eosTokenId: eos,
    padTokenId: int('pad_token_id', eos),
    shiftLogits: bool('shift_logits', false),
    attentionTopology: topology as AttentionTopology,
    trainedBlockSizes: blocks,
    initStd: num('initializer_range', 0.02),
  });
}
