// 16-bit copies of a model's matrices for inference. A checkpoint saved in float16 or bfloat16
// loads into float32 parameters whose values are all exactly representable in that format; a
// copy of the matrices in it, multiplied through matmul_w16 (widened as packed), gives the same
// logits bit for bit while reading half the bytes — decoding's few rows per forward are bound by
// reading the weights. A copy is only made when it is exact, so outputs never change.
import type { Backend, HalfType, Tensor } from '@seed-diffusion/native';

import type { ModelConfig } from './config';
import { f32ToF16, widenTable } from './dtype';
import type { ParamViews } from './params';
import { paramLayout, paramViews } from './params';

/**
 * The 16-bit pattern of float32 bits `x` when x is exactly representable in `type`, else −1.
 * Candidates come from bit truncation (exact for representable normals); the widening table
 * confirms them, so anything not representable (or a subnormal / special value of a kind the
 * truncation misses) is caught by the check or sent through the rounding encoder.
 */
function exactBits(x: number, type: HalfType, wide: Uint32Array, box: { f: Float32Array; u: Uint32Array }): number {
  let h: number;
  if (type === 'bf16') {
    h = x >>> 16;
  } else {
    const e = (x >>> 23) & 0xff;
    if (e >= 113 && e <= 142) h = ((x >>> 16) & 0x8000) | ((e - 112) << 10) | ((x >>> 13) & 0x3ff);
    else {
      box.u[0] = x;
      h = f32ToF16(box.f[0]);
    }
  }
  return wide[h] === x ? h : -1;
}

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
 * the model).
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
  // Compared as bit patterns: −0 and NaN payloads must survive too.
  const wide = new Uint32Array(widenTable(type).buffer);
  const raw = new Uint32Array(host.buffer, host.byteOffset, host.length);
  const f = new Float32Array(1);
  const box = { f, u: new Uint32Array(f.buffer) };
  for (const s of specs) {
    if (!isMatrix(s.name)) continue;
    for (let i = s.offset; i < s.offset + s.size; i++) {
      const h = exactBits(raw[i], type, wide, box);
      if (h < 0) return null;
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
