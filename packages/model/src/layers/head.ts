// Output head: final RMSNorm → (optional row gather) → LM head logits. The gather picks
// which hidden rows produce logits: only the rows that carry a loss (the noisy half of a
// block-diffusion batch), and the one-row shift of Dream-style models.
import type { Backend, HalfType, Tensor } from '@seed-diffusion/native';

import { rowRange, rowsOf, zero } from '../activations';
import type { ModelConfig } from '../config';
import { linearFwd } from './linear';

export interface HeadBuffers {
  /** Source hidden row of each logits row [R] (null: identity, R = N). */
  src: Tensor | null;
  /** Gathered hidden rows [R, d] (unused when src is null). */
  hsel: Tensor;
  logits: Tensor;
}

/** lnf = norm(x); logits[r] = lnf[src[r]] · headᵀ. Rows of x before r0 are not read (no src points there). */
export function headForward(
  b: Backend,
  c: ModelConfig,
  norm: Tensor,
  head: Tensor,
  x: Tensor,
  lnf: Tensor,
  rstdf: Tensor,
  n: number,
  R: number,
  hb: HeadBuffers,
  r0 = 0,
  half?: HalfType,
): void {
  const d = c.hiddenSize;
  const m = n - r0;
  const rows = (t: Tensor, width: number) => rowRange(t, r0, n, width);
  b.rmsnormFwd(rows(x, d), norm, rows(lnf, d), rows(rstdf, 1), m, d, c.rmsNormEps);
  let h = rowsOf(lnf, n, d);
  if (hb.src) {
    h = rowsOf(hb.hsel, R, d);
    b.embeddingFwd(rowsOf(hb.src, R, 1), rowsOf(lnf, n, d), h, R, n, d);
  }
  linearFwd(b, h, head, rowsOf(hb.logits, R, c.vocabSize), R, c.vocabSize, d, half);
}

/**
 * dlogits (in hb.logits) → dHead, dNorm, and dx = ∂L/∂x (overwritten). dlnf is scratch [N, d];
 * dhsel scratch [R, d].
 */
export function headBackward(
  b: Backend,
  c: ModelConfig,
  norm: Tensor,
  head: Tensor,
  gNorm: Tensor,
  gHead: Tensor,
  x: Tensor,
  lnf: Tensor,
  rstdf: Tensor,
  n: number,
  R: number,
  hb: HeadBuffers,
  dhsel: Tensor,
  dlnf: Tensor,
  dx: Tensor,
): void {
  const d = c.hiddenSize;
  const V = c.vocabSize;
  const h = hb.src ? hb.hsel : lnf;
  b.matmul(hb.logits, h, gHead, V, d, R, true, false, 1, 1);
  if (hb.src) {
    b.matmul(hb.logits, head, dhsel, R, d, V, false, false);
    zero(dlnf);
    b.embeddingBwd(hb.src, dhsel, dlnf, R, n, d);
  } else {
    b.matmul(hb.logits, head, dlnf, R, d, V, false, false);
  }
  zero(dx);
  b.rmsnormBwd(x, norm, rstdf, dlnf, dx, gNorm, n, d);
}
