// Forward over the transformer trunk: embedding, then each layer's attention and MLP.
import type { Backend } from '@seed-diffusion/native';

import type { Activations } from './activations';
import { rowsOf } from './activations';
import type { ModelConfig } from './config';
import { attentionForward, kvForward } from './layers/attention';
import { mlpForward } from './layers/mlp';
import type { ParamViews } from './params';
import type { Topology } from './topology';

/**
 * Runs n rows (ids/pos already in acts.ids/acts.pos) through every layer; the result is in acts.xOut
 * for rows [outFrom, n). Every row's K/V is computed in every layer; rows before outFrom feed no
 * output (clean rows of a verify forward, a prefill's rows when outFrom = n), so the last layer
 * skips their queries' output projection and MLP (all of it but the K/V when outFrom = n).
 */
export function forwardTrunk(
  b: Backend,
  c: ModelConfig,
  p: ParamViews,
  acts: Activations,
  n: number,
  topo: Topology,
  keepLse: boolean,
  outFrom = 0,
): void {
  const d = c.hiddenSize;
  const ids = rowsOf(acts.ids, n, 1);
  const pos = rowsOf(acts.pos, n, 1);
  b.embeddingFwd(ids, p.embed, rowsOf(acts.layers[0].x, n, d), n, c.vocabSize, d);
  for (let l = 0; l < c.numLayers; l++) {
    const a = acts.layers[l];
    const last = l === c.numLayers - 1;
    if (last && outFrom >= n) {
      kvForward(b, c, p.layers[l], a, l, n, pos, topo);
      return;
    }
    const r0 = last ? outFrom : 0;
    attentionForward(b, c, p.layers[l], a, l, n, pos, topo, keepLse, r0);
    mlpForward(b, c, p.layers[l], a, n, last ? acts.xOut : acts.layers[l + 1].x, r0);
  }
}

/** Logits row r of a shifted model comes from hidden row r-1 (row 0 from itself), as Dream does. */
export function shiftedSources(n: number): Int32Array {
  const src = new Int32Array(n);
  for (let i = 0; i < n; i++) src[i] = Math.max(i - 1, 0);
  return src;
}
