// matmul_w16: matmul with B stored as 16-bit float bits (binary16 or bfloat16), widened while
// packed. Its contract is stronger than a tolerance: bit-identical to matmul over the widened B
// (so a model may keep its half-precision checkpoint weights and decode to the same tokens),
// and within float32 accumulation error of the float64 reference.
import { reference, type HalfType } from '../lib';
import { backends, maxRelErr, randn, rng } from './helpers';

const MATMUL_TOL = 1e-4;

/** n random 16-bit patterns of finite values of magnitude ~2^-6..2^5 (and some binary16 subnormals). */
function randomHalf(n: number, seed: number, type: HalfType): Uint16Array {
  const r = rng(seed);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const sign = r() < 0.5 ? 0x8000 : 0;
    if (type === 'f16') {
      const sub = r() < 0.02;
      const exp = sub ? 0 : 9 + Math.floor(r() * 11); // 2^-6 .. 2^4
      out[i] = sign | (exp << 10) | (Math.floor(r() * 1024) || 1);
    } else {
      const exp = 121 + Math.floor(r() * 11);
      out[i] = sign | (exp << 7) | Math.floor(r() * 128);
    }
  }
  return out;
}

describe.each(backends())('%s backend', (name, b) => {
  if (!b.has('matmul_w16')) {
    // A backend without the kernel (CUDA) must say so by name, not compute something else.
    test(`matmul_w16 on the ${name} backend, which has no such kernel: a clear error`, () => {
      const C = b.f32(4);
      expect(() =>
        b.matmulW16(b.from(randn(4, 1)), b.from(new Uint16Array(4)), C, 2, 2, 2, false, true, 'f16'),
      ).toThrow(new RegExp(`matmul_w16: not implemented by the ${name} backend`));
    });
    return;
  }
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [2, 704, 256], // a decoding step through a model's MLP
    [17, 33, 65],
    [6, 16, 8], // one full micro-tile
    [7, 19, 600], // two K slices
    [150, 20, 270], // two row blocks
    [3, 3100, 2], // two column blocks
  ];
  for (const type of ['f16', 'bf16'] as const) {
    for (const [M, N, K] of shapes) {
      for (const [ta, tb] of [
        [false, true],
        [false, false],
        [true, true],
      ] as const) {
        test(`${type} M=${M} N=${N} K=${K} transA=${ta} transB=${tb}: bit-identical to matmul on the widened B`, () => {
          const seed = M * 7919 + N * 31 + K + (ta ? 3 : 0) + (tb ? 5 : 0) + (type === 'f16' ? 0 : 1);
          const A = randn(M * K, seed);
          const bits = randomHalf(K * N, seed + 1, type);
          const wide = reference.widen16(bits, type);
          const C0 = randn(M * N, seed + 2);
          for (const [alpha, beta] of [
            [1, 0],
            [-0.5, 1],
          ]) {
            const half = b.from(C0);
            b.matmulW16(b.from(A), b.from(bits), half, M, N, K, ta, tb, type, alpha, beta);
            const full = b.from(C0);
            b.matmul(b.from(A), b.from(wide), full, M, N, K, ta, tb, alpha, beta);
            const got = half.toArray();
            expect(Array.from(got)).toEqual(Array.from(full.toArray()));
            const want = reference.matmul(A, wide, C0, M, N, K, ta, tb, alpha, beta);
            expect(maxRelErr(got, want)).toBeLessThan(MATMUL_TOL);
          }
        });
      }
    }
  }

  test.each(['f16', 'bf16'] as const)('every %s bit pattern widens exactly (B = all 65536 values, A = 1)', (type) => {
    const N = 65536;
    const bits = Uint16Array.from({ length: N }, (_, i) => i);
    for (const tb of [false, true]) {
      const C = b.f32(N);
      b.matmulW16(b.from(new Float32Array([1])), b.from(bits), C, 1, N, 1, false, tb, type);
      const got = C.toArray();
      const conv = type === 'f16' ? reference.f16ToF32 : reference.bf16ToF32;
      for (let i = 0; i < N; i++) {
        const want = conv(i);
        // 0 + 1·(−0) is +0 in the accumulator: compare zeros by value, NaN as NaN.
        if (Number.isNaN(want)) expect(Number.isNaN(got[i])).toBe(true);
        else if (got[i] !== want) throw new Error(`${type} bits 0x${i.toString(16)}: got ${got[i]}, want ${want}`);
      }
    }
  });

  test.each(['f16', 'bf16'] as const)(
    'every %s bit pattern widens exactly in every SIMD lane of the transposing pack (W[j] = pattern at k = j mod 8)',
    (type) => {
      // x·Wᵀ with x = ones(8) and row j of W holding one pattern at column j mod 8, zeros elsewhere:
      // out[j] = pattern + 0 + … exactly, through the vectorised widening (8 columns per load).
      const N = 65536,
        K = 8;
      const bits = new Uint16Array(N * K);
      for (let j = 0; j < N; j++) bits[j * K + (j % K)] = j;
      const C = b.f32(N);
      b.matmulW16(b.from(new Float32Array(K).fill(1)), b.from(bits), C, 1, N, K, false, true, type);
      const got = C.toArray();
      const conv = type === 'f16' ? reference.f16ToF32 : reference.bf16ToF32;
      for (let j = 0; j < N; j++) {
        const want = conv(j);
        if (Number.isNaN(want)) expect(Number.isNaN(got[j])).toBe(true);
        else if (got[j] !== want) throw new Error(`${type} bits 0x${j.toString(16)}: got ${got[j]}, want ${want}`);
      }
    },
  );

  test('clear errors: B of the wrong dtype or too short, an unknown format', () => {
    const A = b.from(randn(4, 1));
    const C = b.f32(4);
    expect(() => b.matmulW16(A, b.from(randn(4, 2)), C, 2, 2, 2, false, true, 'f16')).toThrow(
      /matmul_w16: B must be u16, got f32/,
    );
    expect(() => b.matmulW16(A, b.from(new Uint16Array(3)), C, 2, 2, 2, false, true, 'f16')).toThrow(
      /matmul_w16: B has 3 elements but the shape needs 4/,
    );
    expect(() => b.matmulW16(A, b.from(new Uint16Array(4)), C, 2, 2, 2, false, true, 'f8' as HalfType)).toThrow(
      /bType must be 'f16', 'bf16' or 'bf16-dot'/,
    );
  });
});
