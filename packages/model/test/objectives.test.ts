// Batch layout of the objectives: BD3-LM [x_t ; x_0] rows with duplicated positions, the
// loss rows and their shifted sources, curriculum weights and the exact-k eval weights.
import { Rng } from '@seed-diffusion/corruption';

import { makeConfig } from '../src/config';
import { buildEvalBatch, buildTrainBatch } from '../src/objectives';

const cfg = makeConfig({ vocabSize: 50, hiddenSize: 8, numLayers: 1, numHeads: 2, maskTokenId: 49, eosTokenId: 0 });
const B = 4;
const L = 16;
const x0 = Int32Array.from({ length: B * L }, (_, i) => 1 + ((i * 13) % 47));

test('block_diff: [x_t ; x_0] with positions [0..L-1, 0..L-1], loss on the noisy half, mask ELBO weights', () => {
  const { batch, maskRows, editRows } = buildTrainBatch(cfg, x0, B, L, new Rng(1), {
    topology: 'block_diff',
    block: 4,
    terms: { mask: 1, edit: 0 },
  });
  expect([maskRows, editRows]).toEqual([4, 0]);
  expect(batch.ids.length).toBe(B * 2 * L);
  expect(batch.mask).toEqual({ mask: 'block_diff', block: 4 });
  for (let r = 0; r < B; r++) {
    for (let i = 0; i < L; i++) {
      expect(batch.pos[r * 2 * L + i]).toBe(i);
      expect(batch.pos[r * 2 * L + L + i]).toBe(i);
      expect(batch.ids[r * 2 * L + L + i]).toBe(x0[r * L + i]);
      const noisy = batch.ids[r * 2 * L + i];
      expect(noisy === x0[r * L + i] || noisy === 49).toBe(true);
      expect(batch.src?.[r * L + i]).toBe(r * 2 * L + i);
      expect(batch.weights[r * L + i] > 0).toBe(noisy === 49);
    }
  }
  expect(Array.from(batch.targets)).toEqual(Array.from(x0));
});

test('stage 2 splits the rows between the mask and edit objectives, each weighted by the curriculum', () => {
  const { batch, maskRows, editRows } = buildTrainBatch(cfg, x0, B, L, new Rng(2), {
    topology: 'block_diff',
    block: 8,
    terms: { mask: 1, edit: 0.5 },
    forbid: [49],
  });
  expect([maskRows, editRows]).toEqual([2, 2]);
  // Edit rows weight every position by 0.5 / (2·L).
  for (let i = 2 * L; i < 4 * L; i++) expect(batch.weights[i]).toBeCloseTo(0.5 / (2 * L), 7);
  // Mask rows carry [MASK]s; edit rows never do (their noise is substitutions/insertions/deletions).
  const noisyHalf = (r: number) => Array.from(batch.ids.subarray(r * 2 * L, r * 2 * L + L));
  expect([...noisyHalf(0), ...noisyHalf(1)]).toContain(49);
  expect([...noisyHalf(2), ...noisyHalf(3)]).not.toContain(49);
});

test('shifted logits read position i-1: the noisy stream inside a block, the clean stream across a block boundary', () => {
  const c = makeConfig({ ...cfg, shiftLogits: true });
  const { batch } = buildTrainBatch(c, x0, B, L, new Rng(3), {
    topology: 'block_diff',
    block: 4,
    terms: { mask: 1, edit: 0 },
  });
  const src = batch.src as Int32Array;
  expect(Array.from(src.subarray(0, 9))).toEqual([0, 0, 1, 2, L + 3, 4, 5, 6, L + 7]);
});

test('evaluation weights: exactly k of each block masked, weight (n/k)/(B·L), one unit per block', () => {
  const batch = buildEvalBatch(cfg, x0, B, L, new Rng(4), 'block_diff', 8);
  for (let r = 0; r < B; r++)
    for (let blk = 0; blk < 2; blk++) {
      let k = 0;
      let w = 0;
      for (let i = blk * 8; i < blk * 8 + 8; i++) {
        if (batch.ids[r * 2 * L + i] === 49) {
          k++;
          w = batch.weights[r * L + i];
        }
      }
      expect(k).toBeGreaterThanOrEqual(1);
      expect(w).toBeCloseTo(8 / k / (B * L), 6);
    }
  expect(() => buildEvalBatch(cfg, x0, B, L, new Rng(4), 'block_diff', 5)).toThrow(/eval block 5 must divide/);
});
