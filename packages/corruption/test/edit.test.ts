import { applyRandomEdits, editCorrupt, levenshtein, Rng, TokenSampler } from '../src';
import { randomIds } from './helpers';

const V = 1000;
const PAD = 0;

describe('editCorrupt', () => {
  it('k_t = ⌊|x0_editable|·alphaMax·t⌋ per row, t in (0,1], α in [0, alphaMax]', () => {
    const B = 64;
    const L = 200;
    const rng = new Rng(1);
    const x0 = randomIds(rng, B * L, 1, V);
    const prompt = Int32Array.from({ length: B }, (_, r) => r);
    const res = editCorrupt(x0, B, L, rng, { vocabSize: V, padId: PAD, promptLen: prompt });
    for (let r = 0; r < B; r++) {
      expect(res.t[r] > 0 && res.t[r] <= 1).toBe(true);
      expect(res.k[r]).toBe(Math.floor((L - prompt[r]) * (0.1 * res.t[r])));
      expect(res.alpha[r]).toBeLessThanOrEqual(0.1);
    }
    expect(Math.max(...res.k)).toBeGreaterThan(10);
  });

  it('prompt positions never change and weigh 0; other weights are 1/(number of weighted positions)', () => {
    const B = 32;
    const L = 128;
    const rng = new Rng(2);
    const x0 = randomIds(rng, B * L, 1, V);
    const prompt = Int32Array.from({ length: B }, () => rng.int(L + 1));
    const res = editCorrupt(x0, B, L, rng, { vocabSize: V, padId: PAD, promptLen: prompt, alphaMax: 1 });
    let total = 0;
    for (let r = 0; r < B; r++) total += L - prompt[r];
    const bad: string[] = [];
    for (let r = 0; r < B; r++) {
      for (let i = 0; i < L; i++) {
        const q = r * L + i;
        if (res.targets[q] !== x0[q]) bad.push(`target ${q}`);
        if (i < prompt[r] && (res.edited[q] !== x0[q] || res.weights[q] !== 0)) bad.push(`prompt ${q}`);
        if (i >= prompt[r] && res.weights[q] !== Math.fround(1 / total)) bad.push(`weight ${q}`);
        if (res.changed[q] !== (res.edited[q] !== x0[q] ? 1 : 0)) bad.push(`changed ${q}`);
      }
    }
    expect(bad).toEqual([]);
    const rows = editCorrupt(x0, B, L, new Rng(3), { vocabSize: V, padId: PAD, promptLen: prompt, normalize: 'rows' });
    for (let r = 0; r < B; r++) {
      for (let i = prompt[r]; i < L; i++) expect(rows.weights[r * L + i]).toBe(Math.fround(1 / ((L - prompt[r]) * B)));
    }
  });

  it('Levenshtein(x0, z) <= k on the variable-length sequence, and == k when ops cannot cancel', () => {
    const rng = new Rng(4);
    const uniform = new TokenSampler(V, 'uniform');
    const fresh = new TokenSampler(
      V,
      'uniform',
      Array.from({ length: 50 }, (_, i) => i),
    ); // never a token of x0
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.int(150);
      const x = randomIds(rng, n, 0, 50);
      const k = rng.int(Math.max(1, Math.floor(n * 0.3)));
      const z = new Int32Array(2 * n + k + 1);
      const mixed = (ops: [number, number], s: TokenSampler, distinct: boolean) => {
        z.set(x);
        const len = applyRandomEdits(z, n, k, rng, s, ops, distinct ? new Uint8Array(z.length) : null);
        return levenshtein(x, z.subarray(0, len));
      };
      expect(mixed([1 / 3, 2 / 3], uniform, false)).toBeLessThanOrEqual(k);
      expect(mixed([1 / 3, 2 / 3], uniform, true)).toBeLessThanOrEqual(k);
      expect(mixed([0, 1], uniform, false)).toBe(k); // insertions only: the length grows by k
      if (k <= n) expect(mixed([0, 0], uniform, false)).toBe(k); // deletions only
      // Substitutions at distinct positions by tokens absent from x0: Hamming = Levenshtein = k.
      if (k <= n) expect(mixed([1, 1], fresh, true)).toBe(k);
    }
  });

  it('on the fixed canvas: distance <= 2k (each ins/del also moves the tail), == k for fresh distinct substitutions', () => {
    const B = 48;
    const L = 96;
    const rng = new Rng(5);
    const x0 = randomIds(rng, B * L, 1, 50);
    const forbid = Array.from({ length: 50 }, (_, i) => i);
    const mixed = editCorrupt(x0, B, L, rng, { vocabSize: V, padId: PAD, alphaMax: 0.5, promptLen: 8 });
    const subs = editCorrupt(x0, B, L, rng, {
      vocabSize: V,
      padId: PAD,
      alphaMax: 0.5,
      ops: { sub: 1 },
      forbid,
      distinctPositions: true,
    });
    for (let r = 0; r < B; r++) {
      const row = (a: Int32Array) => a.subarray(r * L, (r + 1) * L);
      expect(levenshtein(row(x0), row(mixed.edited))).toBeLessThanOrEqual(2 * mixed.k[r]);
      expect(levenshtein(row(x0), row(subs.edited))).toBe(subs.k[r]);
      let changed = 0;
      for (const c of subs.changed.subarray(r * L, (r + 1) * L)) changed += c;
      expect(changed).toBe(subs.k[r]);
      for (let i = 0; i < L; i++)
        if (subs.changed[r * L + i]) expect(subs.edited[r * L + i]).toBeGreaterThanOrEqual(50);
    }
  });

  it('insert drops the tail, delete pads at the end with padId; excludePad edits only the content', () => {
    const L = 20;
    const x0 = Int32Array.from({ length: L }, (_, i) => 100 + i);
    const ins = editCorrupt(x0, 1, L, new Rng(6), {
      vocabSize: V,
      padId: PAD,
      alpha: 0.05,
      ops: { ins: 1 },
      forbid: [PAD],
    });
    expect(ins.k[0]).toBe(1);
    expect(ins.edited.includes(119)).toBe(false); // the last token was pushed out
    const del = editCorrupt(x0, 1, L, new Rng(6), { vocabSize: V, padId: PAD, alpha: 0.1, ops: { del: 1 } });
    expect(del.k[0]).toBe(2);
    expect(Array.from(del.edited.subarray(L - 2))).toEqual([PAD, PAD]);
    const padded = Int32Array.from({ length: L }, (_, i) => (i < 12 ? 100 + i : PAD));
    const ex = editCorrupt(padded, 1, L, new Rng(7), {
      vocabSize: V,
      padId: PAD,
      alpha: 0.25,
      excludePad: true,
      forbid: [PAD],
    });
    expect(ex.k[0]).toBe(3); // ⌊12·0.25⌋
    for (let i = 12; i < L; i++) expect(ex.weights[i]).toBe(0);
    for (let i = 0; i < 12; i++) expect(ex.weights[i]).toBe(Math.fround(1 / 12));
  });

  it('inserted/substituted tokens never come from forbid; the unigram source follows its counts within 4σ', () => {
    const rng = new Rng(8);
    const forbid = [0, 1, 2, 7];
    const u = new TokenSampler(10, 'uniform', forbid);
    const counts = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const N = 60000;
    for (let i = 0; i < N; i++) counts[u.sample(rng)]++;
    for (let id = 0; id < 10; id++) {
      const p = forbid.includes(id) ? 0 : 1 / 6;
      expect(u.probability(id)).toBeCloseTo(p, 12);
      expect(Math.abs(counts[id] - N * p)).toBeLessThanOrEqual(4 * Math.sqrt(N * p * (1 - p)));
    }
    const freq = new Float64Array([5, 0, 1, 10, 3, 0.5, 20, 7, 0, 2]);
    const a = new TokenSampler(10, freq, [3]);
    const total = freq.reduce((s, v) => s + v, 0) - 10;
    const h = new Array<number>(10).fill(0);
    for (let i = 0; i < N; i++) h[a.sample(rng)]++;
    for (let id = 0; id < 10; id++) {
      const p = id === 3 ? 0 : freq[id] / total;
      expect(a.probability(id)).toBeCloseTo(p, 12);
      expect(Math.abs(h[id] - N * p)).toBeLessThanOrEqual(4 * Math.sqrt(N * p * (1 - p)) + 1e-9);
    }
    const x0 = new Int32Array(64 * 50).fill(5);
    const res = editCorrupt(x0, 64, 50, rng, {
      vocabSize: 10,
      padId: 9,
      source: freq,
      forbid: [3, 9],
      alphaMax: 1,
      ops: { sub: 1, ins: 1 },
    });
    for (const v of res.edited) expect(v === 3 || v === 9 || freq[v] === 0).toBe(false);
  });

  it('is deterministic from the seed', () => {
    const x0 = randomIds(new Rng(9), 8 * 64, 1, V);
    const a = editCorrupt(x0, 8, 64, new Rng(10), { vocabSize: V, padId: PAD, alphaMax: 0.3 });
    const b = editCorrupt(x0, 8, 64, new Rng(10), { vocabSize: V, padId: PAD, alphaMax: 0.3 });
    expect(a.edited).toEqual(b.edited);
    expect(a.k).toEqual(b.k);
  });

  it('rejects invalid arguments naming them', () => {
    const rng = new Rng(1);
    const x0 = new Int32Array(8).fill(3);
    const base = { vocabSize: 10, padId: 0 };
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, alpha: 1.5 })).toThrow(/alpha/);
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, alphaMax: -0.1 })).toThrow(/alphaMax/);
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, vocabSize: 0 })).toThrow(/vocabSize/);
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, promptLen: 6 })).toThrow(/promptLen/);
    expect(() => editCorrupt(x0, -2, 4, rng, base)).toThrow(/batch/);
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, ops: { sub: 0, ins: 0, del: 0 } })).toThrow(/ops/);
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, ops: { sub: -1 } })).toThrow(/ops.sub/);
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, forbid: Array.from({ length: 10 }, (_, i) => i) })).toThrow(
      /forbid/,
    );
    expect(() => editCorrupt(x0, 2, 4, rng, { ...base, source: new Float64Array(3) })).toThrow(/source/);
  });
});
