// Held-out masked-ELBO bound in bits per token with LLaDA's low-variance exact-k estimator: in each
// unit exactly k of n positions are masked, k ~ U{1..n} (stratified over the batch), weight n/k. In
// the block-diffusion form a unit is one block and the window's bound is the sum over its blocks,
// log p(x) ≥ Σ_b ELBO(x_b | x_<b), each block attending to the clean blocks before it ([x_t ; x_0]
// layout). The batch is built by the model package's buildEvalBatch, the same one training evaluates
// with, and run through the training graph without gradients.
import type { Rng } from '@seed-diffusion/corruption';
import { type Model, TrainGraph, buildEvalBatch } from '@seed-diffusion/model';

import { type MeasureRun, checkCount, secondsSince } from './stats';

export interface ElboOptions {
  /** Called after each scored item with (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Windows scored per run (rounded up to whole batches; default 8). */
  windows?: number;
  /** Tokens per window (default min(128, maxSeqLen)). */
  seqLen?: number;
  /** Block of the block-diffusion bound (default: the largest trained block size dividing seqLen). */
  block?: number;
  /** Windows per forward (default 4). */
  batch?: number;
}

/** The block size the bound uses when none is given: the largest trained size that divides seqLen. */
export function defaultElboBlock(model: Model, seqLen: number): number {
  const fits = model.config.trainedBlockSizes.filter((b) => b <= seqLen && seqLen % b === 0);
  return fits.length > 0 ? Math.max(...fits) : seqLen;
}

/** Windows of `stream` at uniformly random offsets (drawn from rng), [count·len]. */
export function randomWindows(stream: Int32Array, len: number, count: number, rng: Rng): Int32Array {
  if (stream.length < len)
    throw new Error(`held-out stream of ${stream.length} tokens is shorter than a window of ${len}`);
  const out = new Int32Array(count * len);
  for (let i = 0; i < count; i++) {
    const at = rng.int(stream.length - len + 1);
    out.set(stream.subarray(at, at + len), i * len);
  }
  return out;
}

/** Masked-ELBO bits per token on random windows of the held-out stream (lower is better). */
export function maskedElbo(model: Model, stream: Int32Array, rng: Rng, o: ElboOptions = {}): MeasureRun {
  const c = model.config;
  const seqLen = checkCount('elbo seqLen', o.seqLen ?? Math.min(128, c.maxSeqLen));
  if (seqLen > c.maxSeqLen) throw new Error(`elbo seqLen ${seqLen} exceeds the model's maxSeqLen ${c.maxSeqLen}`);
  const B = checkCount('elbo batch', o.batch ?? 4);
  const batches = Math.ceil(checkCount('elbo windows', o.windows ?? 8) / B);
  const topology = c.attentionTopology === 'bidir' ? 'bidir' : 'block_diff';
  const block = topology === 'bidir' ? seqLen : checkCount('elbo block', o.block ?? defaultElboBlock(model, seqLen));
  if (seqLen % block !== 0) throw new Error(`elbo block ${block} must divide seqLen ${seqLen}`);
  const t0 = performance.now();
  const T = topology === 'block_diff' ? 2 * seqLen : seqLen;
  const graph = new TrainGraph(model.backend, c, B, T, B * seqLen);
  let nats = 0;
  for (let i = 0; i < batches; i++) {
    const x0 = randomWindows(stream, seqLen, B, rng);
    const batch = buildEvalBatch(c, x0, B, seqLen, rng, topology, block);
    const { loss } = graph.run(model.views, batch, null);
    if (!Number.isFinite(loss)) throw new Error(`elbo: non-finite loss ${loss} on batch ${i}`);
    nats += loss;
    o.onProgress?.((i + 1) * B, batches * B);
  }
  return {
    measure: 'elbo',
    scores: { bitsPerToken: nats / batches / Math.LN2 },
    samples: batches * B,
    tokens: batches * B * seqLen,
    forwards: batches,
    seconds: secondsSince(t0),
    settings: { estimator: 'exact-k stratified, weight n/k', topology, seqLen, block, batch: B },
  };
}
