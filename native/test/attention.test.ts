// Attention forward/backward (tiled online softmax, GQA, all five mask topologies) against
// the float64 reference that materialises the full masked score matrix; the reference
// backward itself is checked by finite differences.
import { AttnShape, reference } from '../lib';
import { backends, dot, fdError, maxRelErr, randn, raw } from './helpers';

// float32 dot products of length D and sums over Tk keys, against float64: ~1e-6 relative
// in practice; 2e-5 (forward) and 1e-4 (backward, longer accumulation chains) leave margin
// yet catch any mask or indexing error, which shows up as O(0.1).
const FWD_TOL = 2e-5;
const BWD_TOL = 1e-4;
// Central differences in float64 with h = 1e-5: truncation ~1e-10.
const FD_TOL = 1e-6;

const shapes: [string, AttnShape][] = [
  ['bidir 1x1', { Tq: 1, Tk: 1, Hq: 1, Hkv: 1, D: 1, mask: 'bidir' }],
  ['bidir GQA 3', { Tq: 37, Tk: 70, Hq: 3, Hkv: 1, D: 13, mask: 'bidir' }],
  ['causal', { Tq: 67, Tk: 67, Hq: 6, Hkv: 2, D: 16, mask: 'causal' }],
  ['causal long (several tiles)', { Tq: 150, Tk: 150, Hq: 2, Hkv: 1, D: 17, mask: 'causal', scale: 0.3 }],
  ['causal against a cache', { Tq: 5, Tk: 71, Hq: 3, Hkv: 1, D: 8, mask: 'causal', qOffset: 66 }],
  ['block_causal', { Tq: 45, Tk: 45, Hq: 2, Hkv: 2, D: 24, mask: 'block_causal', block: 8, origin: 13 }],
  [
    'block_causal block vs cache',
    { Tq: 10, Tk: 50, Hq: 3, Hkv: 1, D: 7, mask: 'block_causal', block: 10, origin: 13, qOffset: 40 },
  ],
  ['block_diff L=27 block=8', { Tq: 54, Tk: 54, Hq: 3, Hkv: 1, D: 9, mask: 'block_diff', block: 8 }],
  ['block_diff L=80 block=16', { Tq: 160, Tk: 160, Hq: 2, Hkv: 2, D: 11, mask: 'block_diff', block: 16 }],
  ['prefix with a cache', { Tq: 17, Tk: 77, Hq: 6, Hkv: 2, D: 12, mask: 'prefix', qOffset: 60 }],
  ['prefix, keys past the block hidden', { Tq: 17, Tk: 80, Hq: 3, Hkv: 3, D: 5, mask: 'prefix', qOffset: 50 }],
  [
    'verify: 5 clean, 5 one-token masks, 9 draft rows vs a cache (tiles split the spans)',
    { Tq: 19, Tk: 79, Hq: 4, Hkv: 2, D: 10, mask: 'verify', block: 5, origin: 5, qOffset: 60 },
  ],
  [
    'verify: 3 clean, 2 masks, no draft rows',
    { Tq: 5, Tk: 133, Hq: 2, Hkv: 1, D: 16, mask: 'verify', block: 3, origin: 2, qOffset: 128 },
  ],
  [
    'verify decode step: GQA group 4, whole cache tiles, D = 40',
    { Tq: 12, Tk: 212, Hq: 8, Hkv: 2, D: 40, mask: 'verify', block: 4, origin: 4, qOffset: 200 },
  ],
  [
    'block_causal decode step: GQA group 3 vs a long cache, D = 64',
    { Tq: 6, Tk: 150, Hq: 6, Hkv: 2, D: 64, mask: 'block_causal', block: 3, origin: 0, qOffset: 144 },
  ],
];

describe.each(backends())('%s backend', (_name, b) => {
  test.each(shapes)('forward and backward: %s', (_label, s) => {
    const nq = s.Tq * s.Hq * s.D;
    const nk = s.Tk * s.Hkv * s.D;
    const seed = s.Tq * 31 + s.Tk * 7 + s.D;
    const q = randn(nq, seed);
    const k = randn(nk, seed + 1);
    const v = randn(nk, seed + 2);
    const dout = randn(nq, seed + 3);
    const tq = b.from(q),
      tk = b.from(k),
      tv = b.from(v);
    const out = b.f32(nq),
      lse = b.f32(s.Tq * s.Hq);
    b.attentionFwd(tq, tk, tv, out, lse, s);
    const want = reference.attentionFwd(q, k, v, s);
    expect(maxRelErr(out.toArray(), want.out)).toBeLessThan(FWD_TOL);
    expect(maxRelErr(lse.toArray(), want.lse)).toBeLessThan(FWD_TOL);

    // Backward accumulates into pre-filled gradients.
    const dq0 = randn(nq, seed + 4),
      dk0 = randn(nk, seed + 5),
      dv0 = randn(nk, seed + 6);
    const dq = b.from(dq0),
      dk = b.from(dk0),
      dv = b.from(dv0);
    b.attentionBwd(tq, tk, tv, out, lse, b.from(dout), dq, dk, dv, s);
    const g = reference.attentionBwd(q, k, v, dout, s);
    const plus = (a: Float32Array, c: Float64Array) => Float64Array.from(c, (x, i) => x + a[i]);
    expect(maxRelErr(dq.toArray(), plus(dq0, g.dq))).toBeLessThan(BWD_TOL);
    expect(maxRelErr(dk.toArray(), plus(dk0, g.dk))).toBeLessThan(BWD_TOL);
    expect(maxRelErr(dv.toArray(), plus(dv0, g.dv))).toBeLessThan(BWD_TOL);
  });

  test.each<[string, AttnShape]>([
    ['block_diff', { Tq: 70, Tk: 70, Hq: 3, Hkv: 1, D: 16, mask: 'block_diff', block: 6 }],
    // Few rows: the work units split the GQA group differently per thread count.
    ['verify decode step', { Tq: 6, Tk: 150, Hq: 4, Hkv: 1, D: 64, mask: 'verify', block: 3, origin: 2, qOffset: 144 }],
  ])('forward output does not depend on the thread count: %s', (_label, s) => {
    const n = s.Tq * s.Hq * s.D;
    const q = b.from(randn(n, 1)),
      k = b.from(randn(s.Tk * s.D, 2)),
      v = b.from(randn(s.Tk * s.D, 3));
    const run = () => {
      const out = b.f32(n);
      b.attentionFwd(q, k, v, out, null, s);
      return out.toArray();
    };
    const threads = b.numThreads;
    const a = run();
    b.numThreads = 1;
    const c = run();
    b.numThreads = threads;
    expect(Array.from(c)).toEqual(Array.from(a));
  });

  test('backward: dk/dv are identical for any thread count, dq equal up to summation order', () => {
    const s: AttnShape = { Tq: 130, Tk: 200, Hq: 4, Hkv: 2, D: 12, mask: 'prefix', qOffset: 70 };
    const nq = s.Tq * s.Hq * s.D,
      nk = s.Tk * s.Hkv * s.D;
    const q = b.from(randn(nq, 1)),
      k = b.from(randn(nk, 2)),
      v = b.from(randn(nk, 3)),
      dout = b.from(randn(nq, 4));
    const out = b.f32(nq),
      lse = b.f32(s.Tq * s.Hq);
    b.attentionFwd(q, k, v, out, lse, s);
    const run = () => {
      const dq = b.f32(nq),
        dk = b.f32(nk),
        dv = b.f32(nk);
      b.attentionBwd(q, k, v, out, lse, dout, dq, dk, dv, s);
      return [dq.toArray(), dk.toArray(), dv.toArray()];
    };
    const threads = b.numThreads;
    const many = run();
    b.numThreads = 1;
    const one = run();
    b.numThreads = threads;
    expect(maxRelErr(many[0], one[0])).toBeLessThan(1e-6);
    expect(Array.from(many[1])).toEqual(Array.from(one[1]));
    expect(Array.from(many[2])).toEqual(Array.from(one[2]));
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const t = b.f32(64);
    const s: AttnShape = { Tq: 2, Tk: 2, Hq: 2, Hkv: 1, D: 4, mask: 'causal' };
    expect(() => b.attentionFwd(t, t, t, t, null, { ...s, Hkv: 3, Hq: 4 })).toThrow(
      /attention_fwd: Hq \(4\) must be a multiple of Hkv \(3\)/,
    );
    expect(() => b.attentionFwd(t, t, t, b.f32(3), null, s)).toThrow(/attention_fwd: out has 3 elements/);
    expect(() => b.attentionFwd(t, t, t, t, null, { ...s, mask: 'nope' as never })).toThrow(/unknown mask "nope"/);
    expect(() => b.attentionFwd(t, t, t, t, null, { ...s, mask: 'block_diff', block: 2, Tq: 3, Tk: 3 })).toThrow(
      /block_diff needs Tq = Tk = 2L/,
    );
    expect(() => b.attentionFwd(t, t, t, t, null, { ...s, scale: NaN })).toThrow(/scale must be a finite number/);
    expect(() => b.attentionBwd(t, t, t, t, b.i32(4), t, t, t, t, s)).toThrow(/attention_bwd: lse must be f32/);
    // The C layer validates on its own too (callers that bypass the TS boundary).
    const { k, ref } = raw(b);
    const r = ref(t);
    expect(() => k.attention_fwd(r, r, r, r, ref(null), 2, 2, 2, 1, 4, 7, 0, 0, 0, 0.5)).toThrow(
      /attention_fwd: mask must be 0\.\.5/,
    );
    expect(() => k.attention_fwd(r, r, r, r, ref(null), 2, 2, 2, 1, 4, 2, 0, 0, 0, 0.5)).toThrow(
      /attention_fwd: block must be > 0/,
    );
    expect(() => k.attention_bwd(r, r, r, r, r, r, r, r, r, 2, 2, 3, 2, 4, 0, 0, 0, 0, 0.5)).toThrow(
      /attention_bwd: Hq = 3 must be a multiple of Hkv = 2/,
    );
    expect(() => k.attention_fwd(r, r, r, r, ref(null), 2, 3, 2, 1, 4, 4, 0, 0, 2, 0.5)).toThrow(
      /attention_fwd: prefix needs q_offset \+ Tq <= Tk/,
    );
    // verify: 2 clean rows but 3 one-token masks (each mask follows a clean row).
    expect(() => k.attention_fwd(r, r, r, r, ref(null), 5, 7, 2, 1, 4, 5, 2, 3, 2, 0.5)).toThrow(
      /attention_fwd: verify needs 1 <= clean rows/,
    );
    expect(() =>
      b.attentionFwd(t, t, t, t, null, { ...s, mask: 'verify', block: 1, origin: 1, Tq: 2, Tk: 3, qOffset: 0 }),
    ).toThrow(/mask verify needs .* qOffset 0 \+ Tq = Tk 3/);
  });
});

describe('reference attention backward matches finite differences', () => {
  const tiny: AttnShape[] = [
    { Tq: 4, Tk: 5, Hq: 3, Hkv: 1, D: 3, mask: 'bidir', scale: 0.7 },
    { Tq: 4, Tk: 6, Hq: 2, Hkv: 2, D: 3, mask: 'causal', qOffset: 2 },
    { Tq: 5, Tk: 5, Hq: 3, Hkv: 1, D: 2, mask: 'block_causal', block: 2, origin: 1 },
    { Tq: 6, Tk: 6, Hq: 3, Hkv: 1, D: 2, mask: 'block_diff', block: 2 },
    { Tq: 3, Tk: 7, Hq: 2, Hkv: 1, D: 3, mask: 'prefix', qOffset: 3 },
    { Tq: 7, Tk: 9, Hq: 2, Hkv: 1, D: 2, mask: 'verify', block: 3, origin: 2, qOffset: 2 },
  ];
  test.each(tiny.map((s) => [s.mask, s] as const))('%s', (_m, s) => {
    const nq = s.Tq * s.Hq * s.D;
    const nk = s.Tk * s.Hkv * s.D;
    const q = randn(nq, 11),
      k = randn(nk, 12),
      v = randn(nk, 13),
      dout = randn(nq, 14);
    const g = reference.attentionBwd(q, k, v, dout, s);
    const L = (qq: ArrayLike<number>, kk: ArrayLike<number>, vv: ArrayLike<number>) =>
      dot(dout, reference.attentionFwd(qq, kk, vv, s).out);
    expect(fdError((x) => L(x, k, v), q, g.dq)).toBeLessThan(FD_TOL);
    expect(fdError((x) => L(q, x, v), k, g.dk)).toBeLessThan(FD_TOL);
    expect(fdError((x) => L(q, k, x), v, g.dv)).toBeLessThan(FD_TOL);
  });

  test('the literal mask definitions: verify with a cache of 2, 3 clean rows, 2 one-token masks, 2 draft rows', () => {
    const s: AttnShape = { Tq: 7, Tk: 9, Hq: 1, Hkv: 1, D: 1, mask: 'verify', block: 3, origin: 2, qOffset: 2 };
    const rows = Array.from({ length: 7 }, (_, i) =>
      Array.from({ length: 9 }, (_, j) => (reference.attentionVisible(s, i, j) ? '1' : '.')).join(''),
    );
    // Clean rows: causal. Mask after clean row r: cache, clean 0..r, itself. Draft: cache, clean, draft.
    expect(rows).toEqual(['111......', '1111.....', '11111....', '111..1...', '1111..1..', '11111..11', '11111..11']);
  });

  test('the literal mask definitions: block_diff over [x_t ; x_0] with L = 5, block 2', () => {
    const s: AttnShape = { Tq: 10, Tk: 10, Hq: 1, Hkv: 1, D: 1, mask: 'block_diff', block: 2 };
    const rows = Array.from({ length: 10 }, (_, i) =>
      Array.from({ length: 10 }, (_, j) => (reference.attentionVisible(s, i, j) ? '1' : '.')).join(''),
    );
    // Noisy block b: its own noisy block and clean blocks < b. Clean block b: clean blocks <= b.
    expect(rows).toEqual([
      '11........',
      '11........',
      '..11.11...',
      '..11.11...',
      '....11111.',
      '.....11...',
      '.....11...',
      '.....1111.',
      '.....1111.',
      '.....11111',
    ]);
  });
});
