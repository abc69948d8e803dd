// The decoding API: KV-cached block forwards against the uncached block-causal forward,
// shifted-logit models, commit/truncate semantics, row independence and bad input.
import { backend } from '@seed-diffusion/native';

import type { ModelConfigInput } from '../src/config';
import { Model } from '../src/model';

backend().numThreads = 1;
const base: ModelConfigInput = {
  vocabSize: 23,
  hiddenSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  intermediateSize: 40,
  maskTokenId: 22,
  eosTokenId: 0,
  maxSeqLen: 64,
  initStd: 0.3,
};
const V = 23;
const ids = Int32Array.from({ length: 40 }, (_, i) => (i * 7 + 3) % 22);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, ao = 0, bo = 0, n = a.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[ao + i] - b[bo + i]));
  return m;
}

describe.each([
  { name: 'plain', cfg: {} },
  {
    name: 'shifted logits, QKV bias, untied, interleaved rope',
    cfg: { shiftLogits: true, qkvBias: true, tieWordEmbeddings: false, ropeInterleaved: true },
  },
])('$name', ({ cfg }) => {
  const m = Model.init({ ...base, ...cfg }, 5);

  test.each([1, 4, 8])('cached block decoding (block %i) equals forwardFull block_causal within 1e-4', (block) => {
    const T = 32;
    const full = m.forwardFull(ids.subarray(0, T), { mask: 'block_causal', block }).toArray();
    const cache = m.newCache();
    const prompt = 2 * block;
    m.prefill(cache, ids.subarray(0, prompt), block);
    expect(cache.length).toBe(prompt);
    let worst = 0;
    for (let p = prompt; p < T; p += block) {
      const blk = ids.slice(p, p + block);
      // A speculative (uncommitted) forward first, then the committing one: same rows.
      const spec = m.forwardBlock(cache, blk).toArray();
      expect(cache.length).toBe(p);
      const lg = m.forwardBlock(cache, blk, { commit: true }).toArray();
      expect(cache.length).toBe(p + block);
      expect(maxDiff(spec, lg)).toBe(0);
      worst = Math.max(worst, maxDiff(lg, full, 0, p * V, block * V));
    }
    expect(worst).toBeLessThan(1e-4);
  });

  test('prefill of the prompt in several calls equals one call; truncate re-decodes a block identically', () => {
    const block = 4;
    const a = m.newCache();
    m.prefill(a, ids.subarray(0, 16), block);
    const b = m.newCache(32);
    m.prefill(b, ids.subarray(0, 8), block);
    m.prefill(b, ids.subarray(8, 16), block);
    const la = m.forwardBlock(a, ids.slice(16, 20), { commit: true }).toArray();
    const lb = m.forwardBlock(b, ids.slice(16, 20), { commit: true }).toArray();
    expect(maxDiff(la, lb)).toBeLessThan(1e-5);
    a.truncate(16);
    expect(a.length).toBe(16);
    const again = m.forwardBlock(a, ids.slice(16, 20)).toArray();
    expect(maxDiff(again, la)).toBe(0);
    a.reset();
    expect(a.length).toBe(0);
  });

  test('a row of logits does not depend on how many rows are in the call', () => {
    // A prompt of 16 as one bidirectional block, then a block of 8.
    const full = m.forwardFull(ids.subarray(0, 24), { mask: 'block_causal', block: 8, origin: 16 }).toArray();
    const c1 = m.newCache();
    m.prefill(c1, ids.subarray(0, 16), 16);
    const eight = m.forwardBlock(c1, ids.slice(16, 24)).toArray();
    expect(maxDiff(eight, full, 0, 16 * V, 8 * V)).toBeLessThan(1e-4);
    // Causal rows 0..7 computed in calls of 8 and of 32 rows.
    const short = m.forwardFull(ids.subarray(0, 8), { mask: 'block_causal', block: 1 }).toArray();
    const long = m.forwardFull(ids.subarray(0, 32), { mask: 'block_causal', block: 1 }).toArray();
    expect(maxDiff(short, long, 0, 0, 8 * V)).toBeLessThan(1e-4);
  });

  test('logits of selected rows are bit-identical to those rows of a full call (the last layer skips the rest)', () => {
    const c1 = m.newCache();
    m.prefill(c1, ids.subarray(0, 16), 16);
    const all = m.forwardBlock(c1, ids.slice(16, 24)).toArray();
    for (const rows of [Int32Array.of(5, 7), Int32Array.of(7), Int32Array.of(3, 0, 6)]) {
      const part = m.forwardBlock(c1, ids.slice(16, 24), { rows }).toArray();
      rows.forEach((r, i) =>
        expect(Array.from(part.subarray(i * V, (i + 1) * V))).toEqual(Array.from(all.subarray(r * V, (r + 1) * V))),
      );
    }
  });
});

test('bad input is refused with a message naming the problem', () => {
  const m = Model.init(base, 1);
  const c = m.newCache(8);
  expect(() => m.forwardBlock(c, new Int32Array(9))).toThrow(/9 ids at position 0 overflow the cache of 8/);
  expect(() => m.prefill(c, new Int32Array(4), 0)).toThrow(/block must be a positive integer/);
  expect(() => m.forwardBlock(c, Int32Array.from([99]))).toThrow(/99|range|vocab/);
  expect(() => c.truncate(3)).toThrow(/truncate: len must be an integer in \[0, 0\]/);
  expect(() => m.forwardFull(new Int32Array(65))).toThrow(/65 ids exceed maxSeqLen 64/);
  expect(() => m.newCache(0)).toThrow(/maxLen must be a positive integer/);
});

describe('forwardVerify: speculative verification rows in one forward', () => {
  const m = Model.init(base, 7);
  const C = 20;
  const rowOf = (t: ArrayLike<number>, r: number) => Array.from(t).slice(r * V, (r + 1) * V);

  test('each one-token mask row equals the b = 1 step after that prefix; clean K/V equal causal prefill (1e-4)', () => {
    const clean = ids.slice(C, C + 5); // last final token + 4 guesses
    const cache = m.newCache();
    m.prefill(cache, ids.subarray(0, C), 1);
    const draft = 3;
    const lv = m.forwardVerify(cache, clean, { masks: 5, draft }).toArray();
    expect(lv.length).toBe((5 + draft) * V);
    expect(cache.length).toBe(C); // nothing committed by the call itself
    const kTail = cache.read('k', 1, C + 5).slice(C * 12, (C + 5) * 12);
    // Reference: the b = 1 chain, one fused forward [token ; MASK] per position.
    const ref = m.newCache();
    m.prefill(ref, ids.subarray(0, C), 1);
    for (let r = 0; r < 5; r++) {
      const lg = m.forwardBlock(ref, Int32Array.of(clean[r], 22), { commit: 1, block: 1 }).toArray();
      expect(maxDiff(rowOf(lv, r), rowOf(lg, 1))).toBeLessThan(1e-4);
    }
    expect(maxDiff(kTail, ref.read('k', 1, C + 5).slice(C * 12, (C + 5) * 12))).toBeLessThan(1e-4);
    // Draft rows = a block of masks at C + 5 .. against the cache holding all clean rows.
    const blk = m.forwardBlock(ref, new Int32Array(draft).fill(22)).toArray();
    for (let j = 0; j < draft; j++) expect(maxDiff(rowOf(lv, 5 + j), rowOf(blk, j))).toBeLessThan(1e-4);
  });

  test('keeping the confirmed prefix with cache.length continues exactly like the chain', () => {
    const cache = m.newCache();
    m.prefill(cache, ids.subarray(0, C), 1);
    m.forwardVerify(cache, ids.slice(C, C + 4), { masks: 4 });
    cache.length = C + 2; // two clean rows confirmed
    const after = m.forwardBlock(cache, Int32Array.of(22)).toArray();
    const ref = m.newCache();
    m.prefill(ref, ids.subarray(0, C + 2), 1);
    expect(maxDiff(after, m.forwardBlock(ref, Int32Array.of(22)).toArray())).toBeLessThan(1e-4);
  });

  test('bad calls name the problem', () => {
    const cache = m.newCache(32);
    m.prefill(cache, ids.subarray(0, C), 1);
    expect(() => m.forwardVerify(cache, new Int32Array(0), { masks: 0 })).toThrow(/clean is empty/);
    expect(() => m.forwardVerify(cache, ids.slice(0, 2), { masks: 3 })).toThrow(/masks must be an integer in \[0, 2\]/);
    expect(() => m.forwardVerify(cache, ids.slice(0, 2), { masks: 0 })).toThrow(/no mask or draft rows/);
    expect(() => m.forwardVerify(cache, Int32Array.of(1, 22), { masks: 2 })).toThrow(/clean token 1 is \[MASK\]/);
    expect(() => m.forwardVerify(cache, ids.slice(0, 5), { masks: 5, draft: 3 })).toThrow(/overflow the cache of 32/);
    const shifted = Model.init({ ...base, shiftLogits: true }, 1);
    expect(() => shifted.forwardVerify(shifted.newCache(), ids.slice(0, 2), { masks: 2 })).toThrow(/shifted-logit/);
  });
});
