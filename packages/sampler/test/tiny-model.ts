// A real (randomly initialised) tiny model for the decoding tests. initStd 0.5 makes its logits
// peaked and varied, so greedy paths are distinct and free of near-ties.
import { Model, Trainer, type ModelConfigInput } from '@seed-diffusion/model';
import { backend } from '@seed-diffusion/native';

// Tiny forwards gain nothing from threads, and on a loaded machine OpenMP's spinning makes them 50x slower.
backend().numThreads = 1;

export const MASK = 63;
export const EOS = 62;

export function tinyModel(over: Partial<ModelConfigInput> = {}, seed = 1): Model {
  return Model.init(
    {
      vocabSize: 64,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 64,
      maskTokenId: MASK,
      eosTokenId: EOS,
      maxSeqLen: 96,
      initStd: 0.5,
      ...over,
    },
    seed,
  );
}

/** Deterministic prompt of n ordinary tokens (no [MASK], no EOS). */
export function promptOf(n: number, salt = 0): number[] {
  return Array.from({ length: n }, (_, i) => (i * 7 + salt * 13 + 3) % 60);
}

/** Argmax of row r of [*, V] logits, skipping `skip` ids (ties to the lower id, as the kernel does). */
export function argmaxRow(logits: ArrayLike<number>, r: number, V: number, skip: number[]): number {
  let best = -1;
  for (let j = 0; j < V; j++) {
    if (skip.includes(j)) continue;
    if (best < 0 || logits[r * V + j] > logits[r * V + best]) best = j;
  }
  return best;
}

/** The cyclic stream the trained-model tests learn: token i is (5·i) mod 12. */
export const cycleNext = (i: number) => (i * 5) % 12;

/**
 * A tiny model given a few seconds of block-diffusion training (the model package's Trainer) on
 * the cyclic stream, so that decoding has something learnt to reproduce.
 */
export function trainedCycleModel(blockSizes: number[], train: { steps: number; editStart?: number }): Model {
  const model = Model.init(
    {
      vocabSize: 16,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 64,
      maskTokenId: 15,
      eosTokenId: 14,
      maxSeqLen: 128,
      trainedBlockSizes: blockSizes,
    },
    3,
  );
  const stream = Int32Array.from({ length: 20000 }, (_, i) => cycleNext(i));
  new Trainer(model, { train: stream }, { batch: 8, seqLen: 32, lr: 1e-2, seed: 1, ...train }).run();
  return model;
}
