// Parity of the foundation ops (matmul with transposes, RMSNorm forward) against float64
// references, on every backend this machine has, with fresh random inputs of odd shapes.
import { reference } from '../lib';
import { backends, maxRelErr, randn } from './helpers';

// float32 accumulation over K terms: relative error grows ~ sqrt(K)·2^-24; 1e-4 is loose
// enough for K ≤ 1000 and tight enough to catch any indexing mistake.
const MATMUL_TOL = 1e-4;
const NORM_TOL = 1e-5;

describe.each(backends())('%s backend', (_name, b) => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 13],
    [5, 1, 3],
    [17, 9, 33],
    [33, 65, 31],
    [64, 48, 257],
    // Across the packed kernel's blocks (KC = 512 deep, MC = 144 rows, NC = 3072 columns) and
    // its micro-tiles (6×16 AVX2, 4×8 WASM): several K slices, row blocks, column blocks.
    [7, 19, 600],
    [150, 20, 270],
    [1, 40, 520],
    [300, 1, 77],
    [3, 3100, 2],
  ];
  for (const [M, N, K] of shapes) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      test(`matmul M=${M} N=${N} K=${K} transA=${ta} transB=${tb}`, () => {
        const seed = M * 1000 + N * 10 + K + (ta ? 7 : 0) + (tb ? 13 : 0);
        const A = randn(M * K, seed);
        const B = randn(K * N, seed + 1);
        const C0 = randn(M * N, seed + 2);
        for (const [alpha, beta] of [
          [1, 0],
          [0.5, 1],
          [-1.5, 0.25],
        ]) {
          const tA = b.from(A),
            tB = b.from(B),
            tC = b.from(C0);
          b.matmul(tA, tB, tC, M, N, K, ta, tb, alpha, beta);
          const want = reference.matmul(A, B, C0, M, N, K, ta, tb, alpha, beta);
          expect(maxRelErr(tC.toArray(), want)).toBeLessThan(MATMUL_TOL);
        }
      });
    }
  }

  test('beta = 0 overwrites C even where it holds NaN or Inf', () => {
    const [M, N, K] = [13, 21, 300];
    const A = randn(M * K, 91);
    const B = randn(N * K, 92);
    const C0 = new Float32Array(M * N).map((_, i) => (i % 3 === 0 ? NaN : i % 3 === 1 ? Infinity : -1e30));
    const tC = b.from(C0);
    b.matmul(b.from(A), b.from(B), tC, M, N, K, false, true, 0.75, 0);
    const want = reference.matmul(A, B, new Float32Array(M * N), M, N, K, false, true, 0.75, 0);
    expect(maxRelErr(tC.toArray(), want)).toBeLessThan(MATMUL_TOL);
  });

  test('a row of C is bit-identical whatever the number of rows in the call (cached vs uncached decode)', () => {
    // Linear forward x·Wᵀ with K over two slices: rows 0..40 at once, then sub-ranges alone.
    const [M, N, K] = [41, 70, 520];
    const X = randn(M * K, 93);
    const W = randn(N * K, 94);
    const full = b.f32(M * N);
    const tW = b.from(W);
    b.matmul(b.from(X), tW, full, M, N, K, false, true);
    const all = full.toArray();
    for (const [r0, rows] of [
      [0, 1],
      [5, 7],
      [13, 28],
      [40, 1],
    ]) {
      const part = b.f32(rows * N);
      b.matmul(b.from(X.subarray(r0 * K, (r0 + rows) * K)), tW, part, rows, N, K, false, true);
      expect(Array.from(part.toArray())).toEqual(Array.from(all.subarray(r0 * N, (r0 + rows) * N)));
    }
  });

  test.each([
    [50, 70, 530], // threads split the columns
    [70, 50, 530], // threads split the rows
  ])('results do not depend on the thread count (M=%i N=%i K=%i)', (M, N, K) => {
    const A = b.from(randn(K * M, 95));
    const B = b.from(randn(K * N, 96));
    const C0 = randn(M * N, 97);
    const saved = b.numThreads;
    const outs = [1, 2, 3].map((n) => {
      b.numThreads = n;
      const C = b.from(C0);
      b.matmul(A, B, C, M, N, K, true, false, 1, 1);
      return Array.from(C.toArray());
    });
    b.numThreads = saved;
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[2]).toEqual(outs[0]);
  });

  test.each([
    [1, 1],
    [3, 17],
    [7, 255],
    [1, 513],
  ])('rmsnorm_fwd rows=%i dim=%i', (rows, dim) => {
    const x = randn(rows * dim, rows + dim, 3);
    const w = randn(dim, dim + 5);
    const tx = b.from(x),
      tw = b.from(w),
      ty = b.f32(rows * dim),
      tr = b.f32(rows);
    b.rmsnormFwd(tx, tw, ty, tr, rows, dim, 1e-5);
    const want = reference.rmsnorm(x, w, rows, dim, 1e-5);
    expect(maxRelErr(ty.toArray(), want.y)).toBeLessThan(NORM_TOL);
    expect(maxRelErr(tr.toArray(), want.rstd)).toBeLessThan(NORM_TOL);
  });

  test('bad calls throw errors that name the op and the problem', () => {
    const t = b.f32(6);
    expect(() => b.matmul(t, t, t, 2, 2, 4)).toThrow(/matmul: A has 6 elements but the shape needs 8/);
    expect(() => b.matmul(t, t, t, 2, 0, 3)).toThrow(/matmul: N must be an integer >= 1, got 0/);
    expect(() => b.matmul(t, t, t, 1, 1, 1, false, false, NaN)).toThrow(/matmul: alpha must be a finite number/);
    expect(() => b.matmul(b.i32(6), t, t, 2, 1, 3)).toThrow(/matmul: A must be f32, got i32/);
    expect(() => b.rmsnormFwd(t, t, t, null, 2, 3, -1)).toThrow(/rmsnorm_fwd: eps must be >= 0/);
  });

  test('slices share memory with their allocation', () => {
    const big = b.from(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const out = big.slice(6, 2);
    b.matmul(big.slice(0, 2), big.slice(2, 2), out, 1, 1, 2);
    expect(Array.from(big.toArray())).toEqual([1, 2, 3, 4, 5, 6, 11, 8]);
    expect(() => big.slice(7, 2)).toThrow(/outside a tensor of 8 elements/);
  });
});
