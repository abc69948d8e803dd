// 16-bit copies of a model's matrices for inference. A checkpoint saved in float16 or bfloat16
// loads into float32 parameters whose values are all exactly representable in that format; a
// copy of the matrices in it, multiplied through matmul_w16 (widened as packed), gives the same
// logits bit for bit while reading half the bytes — decoding's few rows per forward are bound by
// reading the weights. A copy is only made when it is exact, so outputs never change.
import type { Backend, HalfType, Tensor } from '@seed-diffusion/native';

import type { ModelConfig } from './config';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './dtype';
import type { ParamViews } from './params';
import { paramLayout, paramViews } from './params';

const CODECS: Record<HalfType, { to: (x: number) => number; from: (h: number) => number }> = {
  f16: { to: f32ToF16, from: f16ToF32 },
  bf16: { to: f32ToBf16, from: bf16ToF32 },
};

/** Parameter names multiplied by linearFwd: the matrices (and the LM head / tied embedding). */
function isMatrix(name: string): boolean {
  return /(_proj\.weight|embed_tokens\.weight|lm_head\.weight)$/.test(name);
}

export interface HalfWeights {
  type: HalfType;
  /** Flat u16 buffer with paramLayout's offsets (only the matrices are filled). */
  buffer: Tensor;
  /** The model's views with the matrices and head replaced by their 16-bit copies. */
  views: ParamViews;
}

/**
 * 16-bit copies of the matrices of `host` (the float32 parameters laid out by paramLayout) in
 * `type`, or null when some value is not exactly representable in it (the copy would change
 * the model). Object.is comparison: −0 and NaN payloads must survive too.
 */
export function makeHalfWeights(
  c: ModelConfig,
  b: Backend,
  host: Float32Array,
  views: ParamViews,
  type: HalfType,
): HalfWeights | null {
  const { specs, total } = paramLayout(c);
  const bits = new Uint16Array(total);
  const { to, from } = CODECS[type];
  for (const s of specs) {
    if (!isMatrix(s.name)) continue;
    for (let i = s.offset; i < s.offset + s.size; i++) {
      const h = to(host[i]);
      if (!Object.is(Math.fround(from(h)), host[i])) return null;
      bits[i] = h;
    }
  }
  const buffer = b.from(bits);
  const hv = paramViews(c, buffer);
  return {
    type,
    buffer,
    views: {
      embed: views.embed,
      norm: views.norm,
      head: hv.head,
      half: type,
      layers: views.layers.map((l, i) => {
        const h = hv.layers[i];
        return { ...l, wq: h.wq, wk: h.wk, wv: h.wv, wo: h.wo, wg: h.wg, wu: h.wu, wd: h.wd, half: type };
      }),
    },
  };
}
