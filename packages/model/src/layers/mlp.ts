// SwiGLU MLP sub-layer: RMSNorm → gate/up projections → silu(gate)·up → down projection,
// added to the residual. Forward and backward.
import type { Backend, Tensor } from '@seed-diffusion/native';

import type { GradScratch, LayerActs } from '../activations';
import { rowRange, zero } from '../activations';
import type { ModelConfig } from '../config';
import type { LayerViews } from '../params';
import { linearFwd } from './linear';

/**
 * Reads a.res2, writes the layer output (the next residual) into xNext, for rows [r0, n) (the
 * rows before r0 are left alone: a last layer whose early rows feed no logits skips them).
 */
export function mlpForward(
  b: Backend,
  c: ModelConfig,
  w: LayerViews,
  a: LayerActs,
  n: number,
  xNext: Tensor,
  r0 = 0,
): void {
  const d = c.hiddenSize;
  const I = c.intermediateSize;
  const m = n - r0;
  const at = (t: Tensor, width: number) => rowRange(t, r0, n, width);
  const res2 = at(a.res2, d);
  const ln2 = at(a.ln2, d);
  const gate = at(a.gate, I);
  const up = at(a.up, I);
  const h = at(a.h, I);
  const out = at(xNext, d);
  b.rmsnormFwd(res2, w.ln2, ln2, at(a.rstd2, 1), m, d, c.rmsNormEps);
  linearFwd(b, ln2, w.wg, gate, m, I, d, w.half);
  linearFwd(b, ln2, w.wu, up, m, I, d, w.half);
  b.swigluFwd(gate, up, h, m * I);
  linearFwd(b, h, w.wd, out, m, d, I, w.half);
  b.add(out, res2, out, m * d);
}

/** On entry g.dx = ∂L/∂(layer output); on exit g.dx = ∂L/∂res2. */
export function mlpBackward(
  b: Backend,
  c: ModelConfig,
  w: LayerViews,
  gw: LayerViews,
  a: LayerActs,
  g: GradScratch,
  n: number,
): void {
  const d = c.hiddenSize;
  const I = c.intermediateSize;
  const { dx, dh, dgate, dup, dln } = g;
  b.matmul(dx, w.wd, dh, n, I, d, false, false);
  b.matmul(dx, a.h, gw.wd, d, I, n, true, false, 1, 1);
  zero(dgate);
  zero(dup);
  b.swigluBwd(a.gate, a.up, dh, dgate, dup, n * I);
  b.matmul(dgate, w.wg, dln, n, d, I, false, false);
  b.matmul(dup, w.wu, dln, n, d, I, false, false, 1, 1);
  b.matmul(dgate, a.ln2, gw.wg, I, d, n, true, false, 1, 1);
  b.matmul(dup, a.ln2, gw.wu, I, d, n, true, false, 1, 1);
  b.rmsnormBwd(a.res2, w.ln2, a.rstd2, dln, dx, gw.ln2, n, d);
}
