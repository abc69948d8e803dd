// A plain float64 forward of the whole model, for gradient checks (finite differences) and
// parity tests. Each step is the formula and nothing else.
import type { ModelConfig } from '../src/config';
import { paramLayout } from '../src/params';

export interface RefTopology {
  mask: 'bidir' | 'causal' | 'block_causal' | 'block_diff' | 'prefix';
  block?: number;
  origin?: number;
}

export function visible(t: RefTopology, qi: number, j: number, T: number): boolean {
  const blk = t.block ?? 1;
  switch (t.mask) {
    case 'bidir':
      return true;
    case 'causal':
      return j <= qi;
    case 'block_causal': {
      const o = t.origin ?? 0;
      const b = (p: number) => (p < o ? 0 : 1 + Math.floor((p - o) / blk));
      return b(j) <= b(qi);
    }
    case 'block_diff': {
      const L = T / 2;
      const nq = qi < L;
      const nk = j < L;
      const bq = Math.floor((qi % L) / blk);
      const bk = Math.floor((j % L) / blk);
      if (nq) return (nk && bk === bq) || (!nk && bk < bq);
      return !nk && bk <= bq;
    }
    case 'prefix':
      return true;
  }
}

/**
 * Loss Σ_r w_r·CE_r of sequences [B, T] with positions, per-sequence topology, loss rows
 * gathered from src (null: all rows) — all in float64. Also returns the logits.
 */
export function refLoss(
  c: ModelConfig,
  P: Float64Array,
  ids: Int32Array,
  pos: Int32Array,
  B: number,
  T: number,
  topo: RefTopology,
  src: Int32Array | null,
  targets: Int32Array,
  weights: Float32Array,
): { loss: number; logits: Float64Array } {
  const { specs } = paramLayout(c);
  const W = (name: string) => {
    const s = specs.find((x) => x.name === name);
    if (!s) throw new Error(name);
    return P.subarray(s.offset, s.offset + s.size);
  };
  const d = c.hiddenSize;
  const D = c.headDim;
  const Hq = c.numHeads;
  const Hkv = c.numKvHeads;
  const I = c.intermediateSize;
  const N = B * T;
  const norm = (x: Float64Array, w: Float64Array) => {
    const y = new Float64Array(N * d);
    for (let r = 0; r < N; r++) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x[r * d + i] ** 2;
      const s = 1 / Math.sqrt(ss / d + c.rmsNormEps);
      for (let i = 0; i < d; i++) y[r * d + i] = x[r * d + i] * s * w[i];
    }
    return y;
  };
  const lin = (x: Float64Array, w: Float64Array, rows: number, out: number, inn: number, bias?: Float64Array) => {
    const y = new Float64Array(rows * out);
    for (let r = 0; r < rows; r++)
      for (let o = 0; o < out; o++) {
        let s = bias ? bias[o] : 0;
        for (let i = 0; i < inn; i++) s += x[r * inn + i] * w[o * inn + i];
        y[r * out + o] = s;
      }
    return y;
  };
  const rope = (x: Float64Array, H: number) => {
    const half = D / 2;
    for (let r = 0; r < N; r++)
      for (let h = 0; h < H; h++)
        for (let i = 0; i < half; i++) {
          const f = Math.pow(c.ropeTheta, (-2 * i) / D);
          const a = pos[r] * f;
          const [i0, i1] = c.ropeInterleaved ? [2 * i, 2 * i + 1] : [i, i + half];
          const base = (r * H + h) * D;
          const x0 = x[base + i0];
          const x1 = x[base + i1];
          x[base + i0] = x0 * Math.cos(a) - x1 * Math.sin(a);
          x[base + i1] = x0 * Math.sin(a) + x1 * Math.cos(a);
        }
  };
  let x = new Float64Array(N * d);
  for (let r = 0; r < N; r++) for (let i = 0; i < d; i++) x[r * d + i] = W('model.embed_tokens.weight')[ids[r] * d + i];
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const h1 = norm(x, W(p + 'input_layernorm.weight'));
    const bias = (n: string) => (c.qkvBias ? W(p + `self_attn.${n}_proj.bias`) : undefined);
    const q = lin(h1, W(p + 'self_attn.q_proj.weight'), N, Hq * D, d, bias('q'));
    const k = lin(h1, W(p + 'self_attn.k_proj.weight'), N, Hkv * D, d, bias('k'));
    const v = lin(h1, W(p + 'self_attn.v_proj.weight'), N, Hkv * D, d, bias('v'));
    rope(q, Hq);
    rope(k, Hkv);
    const att = new Float64Array(N * Hq * D);
    for (let bb = 0; bb < B; bb++)
      for (let h = 0; h < Hq; h++) {
        const hk = Math.floor(h / (Hq / Hkv));
        for (let i = 0; i < T; i++) {
          const sc: number[] = [];
          let mx = -Infinity;
          for (let j = 0; j < T; j++) {
            if (!visible(topo, i, j, T)) {
              sc.push(-Infinity);
              continue;
            }
            let s = 0;
            for (let e = 0; e < D; e++) s += q[((bb * T + i) * Hq + h) * D + e] * k[((bb * T + j) * Hkv + hk) * D + e];
            s /= Math.sqrt(D);
            sc.push(s);
            mx = Math.max(mx, s);
          }
          let z = 0;
          for (let j = 0; j < T; j++) z += sc[j] === -Infinity ? 0 : Math.exp(sc[j] - mx);
          for (let j = 0; j < T; j++) {
            if (sc[j] === -Infinity) continue;
            const pj = Math.exp(sc[j] - mx) / z;
            for (let e = 0; e < D; e++)
              att[((bb * T + i) * Hq + h) * D + e] += pj * v[((bb * T + j) * Hkv + hk) * D + e];
          }
        }
      }
    const o = lin(att, W(p + 'self_attn.o_proj.weight'), N, d, Hq * D);
    const r2 = x.map((xv, i) => xv + o[i]);
    const h2 = norm(r2, W(p + 'post_attention_layernorm.weight'));
    const g = lin(h2, W(p + 'mlp.gate_proj.weight'), N, I, d);
    const u = lin(h2, W(p + 'mlp.up_proj.weight'), N, I, d);
    const hh = g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]);
    const dn = lin(hh, W(p + 'mlp.down_proj.weight'), N, d, I);
    x = r2.map((rv, i) => rv + dn[i]);
  }
  const hf = norm(x, W('model.norm.weight'));
  const R = src ? src.length : N;
  const sel = new Float64Array(R * d);
  for (let r = 0; r < R; r++) for (let i = 0; i < d; i++) sel[r * d + i] = hf[(src ? src[r] : r) * d + i];
  const head = c.tieWordEmbeddings ? W('model.embed_tokens.weight') : W('lm_head.weight');
  const V = c.vocabSize;
  const logits = lin(sel, head, R, V, d);
  let loss = 0;
  for (let r = 0; r < R; r++) {
    let mx = -Infinity;
    for (let j = 0; j < V; j++) if (j !== c.maskTokenId) mx = Math.max(mx, logits[r * V + j]);
    let z = 0;
    for (let j = 0; j < V; j++) if (j !== c.maskTokenId) z += Math.exp(logits[r * V + j] - mx);
    const ce = -(logits[r * V + targets[r]] - mx - Math.log(z));
    loss += weights[r] * ce;
  }
  return { loss, logits };
}
