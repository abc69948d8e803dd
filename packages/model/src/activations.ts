// Preallocated activation buffers for a given number of rows (llm.c style). Training keeps
// every layer's activations for the backward; inference (keepAll = false) lets all layers
// share one set, since each layer's inputs are dead once the next layer has run.
import type { Backend, Tensor } from '@seed-diffusion/native';

import type { ModelConfig } from './config';

export interface LayerActs {
  /** Residual stream entering the layer [N, d]. */
  x: Tensor;
  ln1: Tensor;
  rstd1: Tensor;
  /** Post-RoPE queries [N, Hq·D]; keys/values [N, Hkv·D] (unused when a KV cache receives them). */
  q: Tensor;
  k: Tensor;
  v: Tensor;
  att: Tensor;
  /** Row log-sum-exp of attention per sequence [B, Hq, T]. */
  lse: Tensor;
  /** Residual after attention [N, d]. */
  res2: Tensor;
  ln2: Tensor;
  rstd2: Tensor;
  gate: Tensor;
  up: Tensor;
  h: Tensor;
}

export interface Activations {
  rows: number;
  layers: LayerActs[];
  /** Final residual [N, d] (the input of the final norm). */
  xOut: Tensor;
  lnf: Tensor;
  rstdf: Tensor;
  ids: Tensor;
  pos: Tensor;
  /** Every allocation above, once (layers may share one set): what dispose frees. */
  owned: Tensor[];
}

/** Allocates activations for `rows` token rows. */
export function allocActivations(b: Backend, c: ModelConfig, rows: number, keepAll: boolean): Activations {
  const d = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  const owned: Tensor[] = [];
  const own = (t: Tensor): Tensor => {
    owned.push(t);
    return t;
  };
  const f32 = (n: number) => own(b.f32(n));
  const mk = (): LayerActs => ({
    x: f32(rows * d),
    ln1: f32(rows * d),
    rstd1: f32(rows),
    q: f32(rows * qd),
    k: f32(rows * kvd),
    v: f32(rows * kvd),
    att: f32(rows * qd),
    lse: f32(rows * c.numHeads),
    res2: f32(rows * d),
    ln2: f32(rows * d),
    rstd2: f32(rows),
    gate: f32(rows * I),
    up: f32(rows * I),
    h: f32(rows * I),
  });
  const layers: LayerActs[] = [];
  const shared = keepAll ? null : mk();
  for (let l = 0; l < c.numLayers; l++) layers.push(shared ?? mk());
  // Inference: the residual stream is updated in place (x of every layer and the output alias).
  const xOut = keepAll ? f32(rows * d) : layers[0].x;
  const lnf = f32(rows * d);
  const rstdf = f32(rows);
  const ids = own(b.i32(rows));
  const pos = own(b.i32(rows));
  return { rows, layers, xOut, lnf, rstdf, ids, pos, owned };
}

/** Backward scratch: one layer's worth of gradients of activations. */
export interface GradScratch {
  dx: Tensor;
  dln: Tensor;
  dq: Tensor;
  dk: Tensor;
  dv: Tensor;
  datt: Tensor;
  dh: Tensor;
  dgate: Tensor;
  dup: Tensor;
}

export function allocGradScratch(b: Backend, c: ModelConfig, rows: number): GradScratch {
  const d = c.hiddenSize;
  const qd = c.numHeads * c.headDim;
  const kvd = c.numKvHeads * c.headDim;
  const I = c.intermediateSize;
  return {
    dx: b.f32(rows * d),
    dln: b.f32(rows * d),
    dq: b.f32(rows * qd),
    dk: b.f32(rows * kvd),
    dv: b.f32(rows * kvd),
    datt: b.f32(rows * qd),
    dh: b.f32(rows * I),
    dgate: b.f32(rows * I),
    dup: b.f32(rows * I),
  };
}

/** Zeroes a tensor (backward kernels accumulate). Host fill: CPU and WASM memory is host-visible. */
export function zero(t: Tensor): void {
  t.data.fill(0);
}

/** The first n rows of a [rows, width] buffer. */
export function rowsOf(t: Tensor, n: number, width: number): Tensor {
  return n * width === t.length ? t : t.slice(0, n * width);
}

/** Rows [r0, n) of a [rows, width] buffer. */
export function rowRange(t: Tensor, r0: number, n: number, width: number): Tensor {
  return r0 === 0 ? rowsOf(t, n, width) : t.slice(r0 * width, (n - r0) * width);
}
