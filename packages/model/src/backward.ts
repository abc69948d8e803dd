// Backward over the trunk (reverse layer order) and the embedding; the head's backward
// has already put ∂L/∂(final residual) into g.dx.
import type { Backend } from '@seed-diffusion/native';

import type { Activations, GradScratch } from './activations';
import type { ModelConfig } from './config';
import { attentionBackward } from './layers/attention';
import { mlpBackward } from './layers/mlp';
import type { ParamViews } from './params';
import type { Topology } from './topology';

export function backwardTrunk(
  b: Backend,
  c: ModelConfig,
  p: ParamViews,
  grads: ParamViews,
  acts: Activations,
  g: GradScratch,
  n: number,
  topo: Topology,
): void {
  for (let l = c.numLayers - 1; l >= 0; l--) {
    const a = acts.layers[l];
    mlpBackward(b, c, p.layers[l], grads.layers[l], a, g, n);
    attentionBackward(b, c, p.layers[l], grads.layers[l], a, g, n, acts.pos, topo);
  }
  b.embeddingBwd(acts.ids, g.dx, grads.embed, n, c.vocabSize, c.hiddenSize);
}
