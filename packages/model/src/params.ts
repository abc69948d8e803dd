// The flat parameter layout (llm.c style): every weight is a view into one buffer, named with
// the Hugging Face tensor names so checkpoints map one-to-one.
import type { Backend, HalfType, Tensor } from '@seed-diffusion/native';

import type { ModelConfig } from './config';

export interface TensorSpec {
  name: string;
  shape: number[];
  offset: number;
  size: number;
  /** Decayed by AdamW (matrices) or not (norms, biases). */
  decay: boolean;
}

export interface LayerViews {
  ln1: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  bq: Tensor | null;
  bk: Tensor | null;
  bv: Tensor | null;
  wo: Tensor;
  ln2: Tensor;
  wg: Tensor;
  wu: Tensor;
  wd: Tensor;
  /** Set when the matrices (wq … wd) are 16-bit copies (u16 tensors) of this format: inference only. */
  half?: HalfType;
}

export interface ParamViews {
  embed: Tensor;
  layers: LayerViews[];
  norm: Tensor;
  /** The LM head ([V, d]); the embedding itself when tied. */
  head: Tensor;
  /** Set when head is a 16-bit copy (u16) of this format: inference only. */
  half?: HalfType;
}

/** Names, shapes and offsets of every tensor, in buffer order. */
export function paramLayout(c: ModelConfig): { specs: TensorSpec[]; total: number } {
  const d = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const specs: TensorSpec[] = [];
  let offset = 0;
  const add = (name: string, shape: number[], decay: boolean) => {
    const size = shape.reduce((a, b) => a * b, 1);
    specs.push({ name, shape, offset, size, decay });
    offset += size;
  };
  add('model.embed_tokens.weight', [c.vocabSize, d], true);
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    add(p + 'input_layernorm.weight', [d], false);
    add(p + 'self_attn.q_proj.weight', [qd, d], true);
    add(p + 'self_attn.k_proj.weight', [kvd, d], true);
    add(p + 'self_attn.v_proj.weight', [kvd, d], true);
    if (c.qkvBias) {
      add(p + 'self_attn.q_proj.bias', [qd], false);
      add(p + 'self_attn.k_proj.bias', [kvd], false);
      add(p + 'self_attn.v_proj.bias', [kvd], false);
    }
    add(p + 'self_attn.o_proj.weight', [d, qd], true);
    add(p + 'post_attention_layernorm.weight', [d], false);
    add(p + 'mlp.gate_proj.weight', [c.intermediateSize, d], true);
    add(p + 'mlp.up_proj.weight', [c.intermediateSize, d], true);
    add(p + 'mlp.down_proj.weight', [d, c.intermediateSize], true);
  }
  add('model.norm.weight', [d], false);
  if (!c.tieWordEmbeddings) add('lm_head.weight', [c.vocabSize, d], true);
  return { specs, total: offset };
}

/** Per-tensor views into a flat buffer laid out by paramLayout (used for params and grads alike). */
export function paramViews(c: ModelConfig, buf: Tensor): ParamViews {
  const { specs, total } = paramLayout(c);
  if (buf.length !== total) throw new Error(`parameter buffer has ${buf.length} floats, the layout needs ${total}`);
  const by = new Map(specs.map((s) => [s.name, buf.slice(s.offset, s.size)]));
  const get = (n: string) => by.get(n) as Tensor;
  const opt = (n: string) => by.get(n) ?? null;
  const layers: LayerViews[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}.`;
    layers.push({
      ln1: get(p + 'input_layernorm.weight'),
      wq: get(p + 'self_attn.q_proj.weight'),
      wk: get(p + 'self_attn.k_proj.weight'),
      wv: get(p + 'self_attn.v_proj.weight'),
      bq: opt(p + 'self_attn.q_proj.bias'),
      bk: opt(p + 'self_attn.k_proj.bias'),
      bv: opt(p + 'self_attn.v_proj.bias'),
      wo: get(p + 'self_attn.o_proj.weight'),
      ln2: get(p + 'post_attention_layernorm.weight'),
      wg: get(p + 'mlp.gate_proj.weight'),
      wu: get(p + 'mlp.up_proj.weight'),
      wd: get(p + 'mlp.down_proj.weight'),
    });
  }
  const embed = get('model.embed_tokens.weight');
  return { embed, layers, norm: get('model.norm.weight'), head: c.tieWordEmbeddings ? embed : get('lm_head.weight') };
}

/**
 * Deterministic initialisation from a seed: matrices ~ N(0, initStd²), with the residual
 * output projections (o_proj, down_proj) scaled by 1/sqrt(2·layers) (GPT-2), norms 1, biases 0.
 */
export function initParams(c: ModelConfig, b: Backend, seed: number): Tensor {
  const { specs, total } = paramLayout(c);
  const host = new Float32Array(total);
  const rng = new NormalRng(seed);
  const resid = 1 / Math.sqrt(2 * c.numLayers);
  for (const s of specs) {
    const view = host.subarray(s.offset, s.offset + s.size);
    if (s.name.endsWith('layernorm.weight') || s.name === 'model.norm.weight') view.fill(1);
    else if (s.name.endsWith('.bias')) view.fill(0);
    else {
      const std = c.initStd * (s.name.endsWith('o_proj.weight') || s.name.endsWith('down_proj.weight') ? resid : 1);
      for (let i = 0; i < view.length; i++) view[i] = rng.normal() * std;
    }
  }
  return b.from(host);
}

/** splitmix32-seeded xorshift128 with Box–Muller; only for initialisation. */
class NormalRng {
  private s = new Uint32Array(4);
  private spare: number | null = null;
  constructor(seed: number) {
    let z = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x85ebca6b) >>> 0;
      t = Math.imul(t ^ (t >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (t ^ (t >>> 16)) >>> 0 || 1;
    }
  }
  uniform(): number {
    const s = this.s;
    let t = s[3];
    const u = s[0];
    s[3] = s[2];
    s[2] = s[1];
    s[1] = u;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = (t ^ u ^ (u >>> 19)) >>> 0;
    return (s[0] + 0.5) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}
