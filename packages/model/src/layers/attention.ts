// Self-attention sub-layer: RMSNorm → q/k/v projections (+bias) → RoPE → masked attention
// (grouped-query) → output projection, added to the residual. Forward and backward.
import type { AttnShape, Backend, Tensor } from '@seed-diffusion/native';

import type { GradScratch, LayerActs } from '../activations';
import { rowRange, rowsOf, zero } from '../activations';
import type { ModelConfig } from '../config';
import type { LayerViews } from '../params';
import { linearFwd } from './linear';
import type { SeqAttention, Topology } from '../topology';

/** The attention call's shape for one sequence of the topology (forward and backward alike). */
function attnShape(c: ModelConfig, s: SeqAttention): AttnShape {
  const { nq: Tq, Tk, mask, block, origin, qOffset } = s;
  return { Tq, Tk, Hq: c.numHeads, Hkv: c.numKvHeads, D: c.headDim, mask, block, origin, qOffset };
}

/**
 * The layer's keys and values for n rows (RMSNorm → k/v projections (+bias) → RoPE on k), written
 * where the topology keeps them (the KV cache tail at inference). Leaves ln1 in the activations.
 */
export function kvForward(
  b: Backend,
  c: ModelConfig,
  w: LayerViews,
  a: LayerActs,
  l: number,
  n: number,
  pos: Tensor,
  topo: Topology,
): void {
  const d = c.hiddenSize;
  const kvd = c.numKvHeads * c.headDim;
  const ln1 = rowsOf(a.ln1, n, d);
  b.rmsnormFwd(rowsOf(a.x, n, d), w.ln1, ln1, rowsOf(a.rstd1, n, 1), n, d, c.rmsNormEps);
  const k = topo.kOut(l);
  const v = topo.vOut(l);
  linearFwd(b, ln1, w.wk, k, n, kvd, d, w.half);
  linearFwd(b, ln1, w.wv, v, n, kvd, d, w.half);
  if (w.bk && w.bv) {
    b.addBias(k, w.bk, n, kvd);
    b.addBias(v, w.bv, n, kvd);
  }
  b.rope(k, pos, n, c.numKvHeads, c.headDim, c.headDim, c.ropeTheta, c.ropeInterleaved, false);
  const pg = topo.paged;
  if (pg) {
    // Paged sequences: their rows' keys/values go to their pages (the first pg.rows rows).
    const w = pg.pool.rowFloats;
    b.kvScatter(pg.pool.k[l], k.slice(0, pg.rows * w), pg.slots, pg.rows, w, pg.pool.rows);
    b.kvScatter(pg.pool.v[l], v.slice(0, pg.rows * w), pg.slots, pg.rows, w, pg.pool.rows);
  }
}

/** The attention sub-layer for n rows; its output (res2) only for rows [r0, n). */
export function attentionForward(
  b: Backend,
  c: ModelConfig,
  w: LayerViews,
  a: LayerActs,
  l: number,
  n: number,
  pos: Tensor,
  topo: Topology,
  keepLse: boolean,
  r0 = 0,
): void {
  const d = c.hiddenSize;
  const D = c.headDim;
  const qd = c.numHeads * D;
  const x = rowsOf(a.x, n, d);
  const ln1 = rowsOf(a.ln1, n, d);
  const q = rowsOf(a.q, n, qd);
  const att = rowsOf(a.att, n, qd);
  kvForward(b, c, w, a, l, n, pos, topo);
  linearFwd(b, ln1, w.wq, q, n, qd, d, w.half);
  if (w.bq) b.addBias(q, w.bq, n, qd);
  b.rope(q, pos, n, c.numHeads, D, D, c.ropeTheta, c.ropeInterleaved, false);
  for (const s of topo.seqs) {
    if (s.page0 !== undefined) continue; // paged: one call for all of them below
    b.attentionFwd(
      q.slice(s.q0 * qd, s.nq * qd),
      topo.keys(l, s),
      topo.values(l, s),
      att.slice(s.q0 * qd, s.nq * qd),
      keepLse ? a.lse.slice(s.q0 * c.numHeads, s.nq * c.numHeads) : null,
      attnShape(c, s),
    );
  }
  const pg = topo.paged;
  if (pg) {
    const { pool } = pg;
    b.attentionPagedFwd(q, pool.k[l], pool.v[l], att, pg.table, pg.pages, {
      N: n,
      S: pg.count,
      Hq: c.numHeads,
      Hkv: c.numKvHeads,
      D,
      pageSize: pool.pageSize,
      poolPages: pool.capacity,
    });
  }
  // Output projection and residual for rows [r0, n) only (see mlpForward).
  const m = n - r0;
  const res2 = rowRange(a.res2, r0, n, d);
  linearFwd(b, rowRange(att, r0, n, qd), w.wo, res2, m, d, qd, w.half);
  b.add(res2, rowRange(x, r0, n, d), res2, m * d);
}

/** On entry g.dx = ∂L/∂res2; on exit g.dx = ∂L/∂x (the layer input). Weight grads accumulate into gw. */
export function attentionBackward(
  b: Backend,
  c: ModelConfig,
  w: LayerViews,
  gw: LayerViews,
  a: LayerActs,
  g: GradScratch,
  n: number,
  pos: Tensor,
  topo: Topology,
): void {
  const d = c.hiddenSize;
  const D = c.headDim;
  const qd = c.numHeads * D;
  const kvd = c.numKvHeads * D;
  const { dx, datt, dq, dk, dv, dln } = g;
  b.matmul(dx, w.wo, datt, n, qd, d, false, false);
  b.matmul(dx, a.att, gw.wo, d, qd, n, true, false, 1, 1);
  zero(dq);
  zero(dk);
  zero(dv);
  for (const s of topo.seqs) {
    const qs = (t: Tensor) => t.slice(s.q0 * qd, s.nq * qd);
    const ks = (t: Tensor) => t.slice(s.k0 * kvd, s.Tk * kvd);
    b.attentionBwd(
      qs(a.q),
      ks(a.k),
      ks(a.v),
      qs(a.att),
      a.lse.slice(s.q0 * c.numHeads, s.nq * c.numHeads),
      qs(datt),
      qs(dq),
      ks(dk),
      ks(dv),
      attnShape(c, s),
    );
  }
  // RoPE is a rotation: its backward is the inverse rotation of the gradient.
  b.rope(dq, pos, n, c.numHeads, D, D, c.ropeTheta, c.ropeInterleaved, true);
  b.rope(dk, pos, n, c.numKvHeads, D, D, c.ropeTheta, c.ropeInterleaved, true);
  if (gw.bq && gw.bk && gw.bv) {
    b.biasGrad(dq, gw.bq, n, qd);
    b.biasGrad(dk, gw.bk, n, kvd);
    b.biasGrad(dv, gw.bv, n, kvd);
  }
  b.matmul(dq, w.wq, dln, n, d, qd, false, false);
  b.matmul(dk, w.wk, dln, n, d, kvd, false, false, 1, 1);
  b.matmul(dv, w.wv, dln, n, d, kvd, false, false, 1, 1);
  b.matmul(dq, a.ln1, gw.wq, qd, d, n, true, false, 1, 1);
  b.matmul(dk, a.ln1, gw.wk, kvd, d, n, true, false, 1, 1);
  b.matmul(dv, a.ln1, gw.wv, kvd, d, n, true, false, 1, 1);
  b.rmsnormBwd(a.x, w.ln1, a.rstd1, dln, dx, gw.ln1, n, d);
}
