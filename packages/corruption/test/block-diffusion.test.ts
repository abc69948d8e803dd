import { blockDiffAllowed, blockDiffusionBatch, Rng } from '../src';
import { randomIds } from './helpers';

const MASK = 500;

describe('blockDiffusionBatch', () => {
  it('lays out [x_t ; x_0] with positions [0..L−1, 0..L−1], targets x0, weights only on the noisy half', () => {
    const B = 4;
    const L = 64;
    const block = 16;
    const rng = new Rng(1);
    const x0 = randomIds(rng, B * L, 0, MASK);
    const bd = blockDiffusionBatch(x0, B, L, block, rng, { maskId: MASK, promptLen: 5 });
    expect(bd.seqLen).toBe(2 * L);
    expect(bd.block).toBe(block);
    expect(bd.attention).toEqual({ mask: 'block_diff', block, Tq: 2 * L, Tk: 2 * L });
    expect(bd.corruption.numBlocks).toBe(L / block); // one t per block by default
    for (let r = 0; r < B; r++) {
      for (let i = 0; i < L; i++) {
        const n = r * 2 * L + i;
        const c = n + L;
        const x = x0[r * L + i];
        expect(bd.positions[n]).toBe(i);
        expect(bd.positions[c]).toBe(i);
        expect(bd.ids[c]).toBe(x);
        expect(bd.ids[n]).toBe(bd.masked[n] ? MASK : x);
        expect(bd.targets[n]).toBe(x);
        expect(bd.targets[c]).toBe(x);
        expect(bd.weights[c]).toBe(0);
        expect(bd.masked[c]).toBe(0);
        expect(bd.weights[n]).toBe(bd.corruption.weights[r * L + i]);
        if (i < 5) expect(bd.masked[n]).toBe(0);
      }
    }
    const perRow = blockDiffusionBatch(x0, B, L, block, rng, { maskId: MASK, tPerBlock: false });
    expect(perRow.corruption.numBlocks).toBe(1);
  });

  it('blockDiffAllowed is the SD_MASK_BLOCK_DIFF rule of sd_ops.h', () => {
    const L = 12;
    const block = 4;
    for (let q = 0; q < 2 * L; q++) {
      for (let k = 0; k < 2 * L; k++) {
        const bq = Math.floor((q % L) / block);
        const bk = Math.floor((k % L) / block);
        // noisy block b sees noisy block b and clean blocks < b; clean block b sees clean blocks <= b.
        const expected = q < L ? (k < L ? bq === bk : bk < bq) : k >= L && bk <= bq;
        expect(blockDiffAllowed(q, k, L, block)).toBe(expected);
      }
    }
  });

  it('is deterministic and rejects a bad block size', () => {
    const x0 = randomIds(new Rng(2), 2 * 32, 0, MASK);
    const a = blockDiffusionBatch(x0, 2, 32, 8, new Rng(3), { maskId: MASK, antithetic: true });
    const b = blockDiffusionBatch(x0, 2, 32, 8, new Rng(3), { maskId: MASK, antithetic: true });
    expect(a.ids).toEqual(b.ids);
    expect(() => blockDiffusionBatch(x0, 2, 32, 0, new Rng(3), { maskId: MASK })).toThrow(/block/);
    expect(() => blockDiffusionBatch(x0, 2, 32, 64, new Rng(3), { maskId: MASK })).toThrow(/block/);
  });
});
