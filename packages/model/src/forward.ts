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
 * Runs n rows (ids/pos already in acts.ids/acts.pos) through every layer; the result is in acts.xOut.
 * kvOnly: the caller wants only the K/V the rows leave behind (a prefill), so the last layer stops
 * after its keys and values — its queries, attention and MLP would only feed the unused output.
 */
export function forwardTrunk(
  b: Backend,
  c: ModelConfig,
  p: ParamViews,
  acts: Activations,
  n: number,
  topo: Topology,
  keepLse: boolean,
  kvOnly = false,
): void {
  const d = c.hiddenSize;
  const ids = rowsOf(acts.ids, n, 1);
  const pos = rowsOf(acts.pos, n, 1);
  b.embeddingFwd(ids, p.embed, rowsOf(acts.layers[0].x, n, d), n, c.vocabSize, d);
  for (let l = 0; l < c.numLayers; l++) {
    const a = acts.layers[l];
    if (kvOnly && l === c.numLayers - 1) {
      kvForward(b, c, p.layers[l], a, l, n, pos, topo);
      return;
    }
    attentionForward(b, c, p.layers[l], a, l, n, pos, topo, keepLse);
    mlpForward(b, c, p.layers[l], a, n, l + 1 < c.numLayers ? acts.layers[l + 1].x : acts.xOut);
  }
}

/** Logits row r of a shifted model comes from hidden row r-1 (row 0 from itself), as Dream does. */
export function shiftedSources(n: number): Int32Array {
  const src = new Int32Array(n);
  for (let i = 0; i < n; i++) src[i] = Math.max(i - 1, 0);
  return src;
}
