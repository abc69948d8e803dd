import { maskCorrupt, noiseSchedule, Rng, type MaskOptions } from '../src';
import { randomIds } from './helpers';

const MASK = 1000;

function run(batch: number, len: number, seed: number, opts: Partial<MaskOptions> = {}) {
  const rng = new Rng(seed);
  const x0 = randomIds(rng, batch * len, 0, MASK);
  return { x0, res: maskCorrupt(x0, batch, len, rng, { maskId: MASK, ...opts }) };
}

/** |Σ masked − Σ n·p| over all units, against 4σ of the sum of binomials. */
function rateWithin4Sigma(res: ReturnType<typeof maskCorrupt>, len: number, batch: number, prompt = 0): void {
  let masked = 0;
  let mean = 0;
  let variance = 0;
  for (let r = 0; r < batch; r++) {
    for (let b = 0; b < res.numBlocks; b++) {
      const lo = Math.max(b * res.blockSize, prompt);
      const hi = Math.min((b + 1) * res.blockSize, len);
      const n = Math.max(0, hi - lo);
      const p = res.pMask[r * res.numBlocks + b];
      mean += n * p;
      variance += n * p * (1 - p);
      for (let i = lo; i < hi; i++) masked += res.masked[r * len + i];
    }
  }
  expect(Math.abs(masked - mean)).toBeLessThan(4 * Math.sqrt(variance));
}

describe('maskCorrupt', () => {
  it.each(['linear', 'cosine', 'loglinear'] as const)(
    '%s: realised mask count follows p_mask(t) within 4σ',
    (schedule) => {
      const { res } = run(256, 256, 3, { schedule });
      rateWithin4Sigma(res, 256, 256);
      // and per-row rates track t: rows with p < 0.2 vs p > 0.8 have clearly different rates
      const s = noiseSchedule(schedule);
      for (let r = 0; r < 256; r++) expect(res.pMask[r]).toBeCloseTo(s.pMask(res.t[r]), 6);
    },
  );

  it('noisy = maskId exactly where masked, x0 elsewhere; weights follow the LLaDA formula exactly', () => {
    const B = 8;
    const L = 64;
    const eps = 1e-3;
    const { x0, res } = run(B, L, 4, { eps });
    for (let r = 0; r < B; r++) {
      const t = res.t[r];
      const p = (1 - eps) * t + eps;
      expect(res.pMask[r]).toBe(Math.fround(p));
      for (let i = r * L; i < (r + 1) * L; i++) {
        expect(res.noisy[i]).toBe(res.masked[i] ? MASK : x0[i]);
        expect(res.weights[i]).toBe(res.masked[i] ? Math.fround(1 / p / (B * L)) : 0);
      }
    }
  });

  it('cosine and clipped weights match their formulas; clipped with beta > 0.5 has weight 1', () => {
    const B = 16;
    const L = 32;
    const h = Math.PI / 2;
    const cos = run(B, L, 5, { schedule: 'cosine', eps: 0 }).res;
    for (let i = 0; i < B * L; i++) {
      const t = cos.t[Math.floor(i / L)];
      const w = (h * Math.sin(h * t)) / (1 - Math.cos(h * t));
      expect(cos.weights[i]).toBe(cos.masked[i] ? Math.fround(w / (B * L)) : 0);
    }
    const lo = run(B, L, 6, { schedule: { clipped: [0.3, 0.8] } }).res;
    const hi = run(B, L, 6, { schedule: { clipped: [0.6, 0.9] } }).res;
    for (let i = 0; i < B * L; i++) {
      expect(lo.weights[i]).toBe(lo.masked[i] ? Math.fround(1 / lo.t[Math.floor(i / L)] / (B * L)) : 0);
      expect(hi.weights[i]).toBe(hi.masked[i] ? Math.fround(1 / (B * L)) : 0);
    }
  });

  it('clipped window: t in [β, ω] and every block realised rate resampled into the window', () => {
    const B = 64;
    const L = 128;
    const block = 16;
    const { res } = run(B, L, 7, { schedule: { clipped: [0.3, 0.8] }, perBlock: block, antithetic: true });
    expect(res.numBlocks).toBe(8);
    for (let u = 0; u < B * 8; u++) {
      expect(res.t[u]).toBeGreaterThanOrEqual(Math.fround(0.3));
      expect(res.t[u]).toBeLessThanOrEqual(Math.fround(0.8));
      let m = 0;
      for (let i = 0; i < block; i++) m += res.masked[u * block + i];
      expect(m / block).toBeGreaterThanOrEqual(0.3);
      expect(m / block).toBeLessThanOrEqual(0.8);
    }
    // an infeasible window (1 eligible position, [0.3, 0.8]) is left as drawn instead of looping
    const one = run(4, 8, 8, { schedule: { clipped: [0.3, 0.8] }, promptLen: 7 }).res;
    expect(Array.from(one.maskedCount).every((c) => c <= 1)).toBe(true);
    // the exact-count fallback keeps the window even with maxResample 0
    const fb = run(32, 16, 9, { schedule: { clipped: [0.4, 0.5] }, maxResample: 0 }).res;
    for (const c of fb.maskedCount) expect(c / 16 >= 0.4 && c / 16 <= 0.5).toBe(true);
  });

  it('per-block t: one t per block, rate follows each block p within 4σ; antithetic t are stratified', () => {
    const B = 32;
    const L = 256;
    const { res } = run(B, L, 10, { perBlock: 32, antithetic: true });
    expect(res.numBlocks).toBe(8);
    expect(res.t).toHaveLength(B * 8);
    rateWithin4Sigma(res, L, B);
    const N = B * 8;
    for (let j = 0; j < N; j++) {
      // u_j in [j/N, (j+1)/N), t = 1 − u_j (float32)
      expect(res.t[j]).toBeLessThanOrEqual(Math.fround(1 - j / N) + 1e-7);
      expect(res.t[j]).toBeGreaterThanOrEqual(Math.fround(1 - (j + 1) / N) - 1e-7);
    }
  });

  it('a partial last block gets its own t', () => {
    const { res } = run(2, 40, 11, { perBlock: 16 });
    expect(res.numBlocks).toBe(3);
    expect(res.t).toHaveLength(6);
  });

  it('prompt positions are never masked and weigh 0; pads excluded when asked; eligible normalisation', () => {
    const B = 16;
    const L = 64;
    const rng = new Rng(12);
    const x0 = randomIds(rng, B * L, 1, 50);
    const prompt = Int32Array.from({ length: B }, (_, r) => r * 3);
    for (let r = 0; r < B; r++) for (let i = L - 10; i < L; i++) x0[r * L + i] = 0; // 10 trailing pads
    const res = maskCorrupt(x0, B, L, rng, {
      maskId: MASK,
      promptLen: prompt,
      padId: 0,
      excludePad: true,
      normalize: 'eligible',
      schedule: { clipped: [0.9, 1] },
    });
    for (let r = 0; r < B; r++) {
      expect(res.eligible[r]).toBe(L - 10 - prompt[r]);
      for (let i = 0; i < L; i++) {
        const q = r * L + i;
        if (i < prompt[r] || x0[q] === 0) {
          expect(res.masked[q]).toBe(0);
          expect(res.noisy[q]).toBe(x0[q]);
          expect(res.weights[q]).toBe(0);
        } else if (res.masked[q]) {
          expect(res.weights[q]).toBe(Math.fround(1 / (res.eligible[r] * B)));
        }
      }
    }
  });

  it('exact-k: k in 1..n masked positions with weight n/k; stratified k spread over the batch', () => {
    const B = 16;
    const L = 100;
    const { res } = run(B, L, 13, { exactK: true, promptLen: 20, normalize: 'rows' });
    for (let r = 0; r < B; r++) {
      const k = res.maskedCount[r];
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThanOrEqual(80);
      let m = 0;
      for (let i = r * L; i < (r + 1) * L; i++) {
        m += res.masked[i];
        expect(res.weights[i]).toBe(res.masked[i] ? Math.fround(80 / k / B) : 0);
      }
      expect(m).toBe(k);
      expect(res.t[r]).toBe(Math.fround(k / 80));
    }
    const strat = run(8, 80, 14, { exactK: true, antithetic: true }).res;
    const ks = Array.from(strat.maskedCount).sort((a, b) => a - b);
    for (let i = 1; i < 8; i++) expect(ks[i] - ks[i - 1]).toBeGreaterThanOrEqual(9); // steps of n/b = 10, rounded
  });

  it('the LLaDA loss: Σ weights·CE with unit CE equals Σ_masked (1/p)/(B·L)', () => {
    const B = 4;
    const L = 50;
    const { res } = run(B, L, 15);
    let direct = 0;
    let viaWeights = 0;
    for (let i = 0; i < B * L; i++) {
      if (res.masked[i]) direct += 1 / res.pMask[Math.floor(i / L)];
      viaWeights += res.weights[i];
    }
    expect(viaWeights).toBeCloseTo(direct / (B * L), 4);
  });

  it('is deterministic from the seed, and resumes exactly from a saved Rng state', () => {
    const a = run(8, 64, 16, { perBlock: 8, antithetic: true });
    const b = run(8, 64, 16, { perBlock: 8, antithetic: true });
    expect(a.res.noisy).toEqual(b.res.noisy);
    expect(a.res.weights).toEqual(b.res.weights);
    const rng = new Rng(17);
    const x0 = randomIds(rng, 8 * 64, 0, MASK);
    maskCorrupt(x0, 8, 64, rng, { maskId: MASK });
    const saved = rng.state();
    const next1 = maskCorrupt(x0, 8, 64, rng, { maskId: MASK });
    const next2 = maskCorrupt(x0, 8, 64, Rng.fromState(saved), { maskId: MASK });
    expect(next2.noisy).toEqual(next1.noisy);
    expect(next2.t).toEqual(next1.t);
  });

  it('rejects invalid arguments naming them', () => {
    const rng = new Rng(1);
    const x0 = new Int32Array(8);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, schedule: 'quadratic' as never })).toThrow(/schedule/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, promptLen: 5 })).toThrow(/promptLen/);
    expect(() => maskCorrupt(x0, 2, -4, rng, { maskId: 5 })).toThrow(/len/);
    expect(() => maskCorrupt(x0, 2, 3, rng, { maskId: 5 })).toThrow(/x0/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: -1 })).toThrow(/maskId/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, eps: 1.5 })).toThrow(/eps/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, schedule: { clipped: [0.8, 0.3] } })).toThrow(/clipped/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, perBlock: 0 })).toThrow(/perBlock/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, excludePad: true })).toThrow(/padId/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, normalize: 'mean' as never })).toThrow(/normalize/);
    expect(() => maskCorrupt(x0, 2, 4, rng, { maskId: 5, exactK: true, perBlock: 2 })).toThrow(/perBlock/);
  });
});
