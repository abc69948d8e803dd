// Rotary embedding (NeoX half-split and interleaved, partial rotation, repeated and large
// positions) against the float64 reference; inverse = backward, checked by finite differences.
import { reference } from '../lib';
import { backends, dot, fdError, maxRelErr, randInt, randn } from './helpers';

// cos/sin are formed in double and rounded to float once: ~2e-7 relative per product.
const TOL = 2e-6;

describe.each(backends())('%s backend', (_name, b) => {
  const cases: [number, number, number, number, boolean][] = [
    [1, 1, 2, 2, false],
    [9, 3, 10, 6, false],
    [9, 3, 10, 6, true],
    [33, 2, 64, 64, false],
    [33, 5, 18, 16, true],
  ];
  test.each(cases)('n=%i heads=%i headDim=%i rotDim=%i interleaved=%s', (n, heads, headDim, rotDim, inter) => {
    const pos = randInt(n, n + heads, 0, 6000);
    if (n > 2) pos[1] = pos[2]; // positions may repeat
    const x = randn(n * heads * headDim, n * headDim + rotDim);
    const t = b.from(x),
      tp = b.from(pos);
    b.rope(t, tp, n, heads, headDim, rotDim, 10000, inter, false);
    const fwd = reference.rope(x, pos, n, heads, headDim, rotDim, 10000, inter, false);
    expect(maxRelErr(t.toArray(), fwd)).toBeLessThan(TOL);
    b.rope(t, tp, n, heads, headDim, rotDim, 10000, inter, true);
    expect(maxRelErr(t.toArray(), x)).toBeLessThan(2 * TOL); // inverse undoes the rotation
    const y = b.from(x);
    b.rope(y, tp, n, heads, headDim, rotDim, 500, inter, true);
    expect(maxRelErr(y.toArray(), reference.rope(x, pos, n, heads, headDim, rotDim, 500, inter, true))).toBeLessThan(
      TOL,
    );
  });

  test('cached cos/sin rows: repeated calls, positions past the cache, many (theta, rotDim) pairs', () => {
    // The kernel caches each position's cos/sin per (theta, rotDim) on first use (4 tables, reused
    // round robin) and computes positions >= 65536 per call; every path must give the same values.
    const n = 7,
      heads = 2,
      hd = 12;
    const pos = Int32Array.of(3, 70000, 65535, 65536, 3, 1 << 20, 17);
    const x = randn(n * heads * hd, 4242);
    const once = (theta: number, rot: number) => {
      const t = b.from(x);
      b.rope(t, b.from(pos), n, heads, hd, rot, theta, false, false);
      return t.toArray();
    };
    const first = once(10000, 12);
    for (const [theta, rot] of [
      [10000, 8],
      [500, 12],
      [77, 4],
      [1e6, 12],
      [3, 12],
    ])
      expect(maxRelErr(once(theta, rot), reference.rope(x, pos, n, heads, hd, rot, theta, false, false))).toBeLessThan(
        TOL,
      );
    expect(once(10000, 12)).toEqual(first); // the recycled table is refilled with the same values
    expect(maxRelErr(first, reference.rope(x, pos, n, heads, hd, 12, 10000, false, false))).toBeLessThan(TOL);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const x = b.f32(12);
    expect(() => b.rope(x, b.from(new Int32Array([0, -1])), 2, 1, 6, 4, 10000)).toThrow(
      /rope: pos\[1\] = -1 must be >= 0/,
    );
    expect(() => b.rope(x, b.i32(2), 2, 1, 6, 3, 10000)).toThrow(/rope: rotDim must be even/);
    expect(() => b.rope(x, b.i32(2), 2, 1, 6, 4, NaN)).toThrow(/rope: theta must be a finite number/);
    expect(() => b.rope(x, b.i32(2), 2, 1, 6, 4, -5)).toThrow(/rope: theta must be > 0/);
    expect(() => b.rope(x, b.f32(2), 2, 1, 6, 4, 10000)).toThrow(/rope: pos must be i32/);
  });
});

test.each([false, true])(
  'reference rope backward (the inverse) matches finite differences, interleaved=%s',
  (inter) => {
    const n = 4,
      heads = 2,
      hd = 6,
      rot = 4;
    const pos = new Int32Array([0, 3, 3, 17]);
    const x = randn(n * heads * hd, 1),
      dy = randn(n * heads * hd, 2);
    const grad = reference.rope(dy, pos, n, heads, hd, rot, 100, inter, true);
    const f = (xx: Float64Array) => dot(dy, reference.rope(xx, pos, n, heads, hd, rot, 100, inter, false));
    expect(fdError(f, x, grad)).toBeLessThan(1e-8);
  },
);
