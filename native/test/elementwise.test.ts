// add, scale, axpy, sumsq, add_bias, bias_grad against float64 references, including sizes
// large enough to take the multi-threaded paths.
import { reference } from '../lib';
import { backends, dot, fdError, maxRelErr, randn, raw } from './helpers';

// One float32 rounding per element: 1e-6 relative. sumsq accumulates in double: 1e-12.
const TOL = 1e-6;
const SUMSQ_TOL = 1e-12;
// bias_grad sums `rows` float32 values: error ~ rows·2^-24 relative to the magnitude.
const BIAS_TOL = 2e-5;

describe.each(backends())('%s backend', (_name, b) => {
  test.each([1, 7, 1001, 70001])('add, scale, axpy, sumsq n=%i', (n) => {
    const a = randn(n, n),
      c = randn(n, n + 1);
    const ta = b.from(a),
      tc = b.from(c),
      out = b.f32(n);
    b.add(ta, tc, out, n);
    expect(maxRelErr(out.toArray(), reference.add(a, c))).toBeLessThan(TOL);
    b.add(ta, tc, ta, n); // aliasing: out = a
    expect(maxRelErr(ta.toArray(), reference.add(a, c))).toBeLessThan(TOL);
    const x = b.from(a);
    b.scale(x, -1.75, n);
    expect(maxRelErr(x.toArray(), reference.scale(a, -1.75))).toBeLessThan(TOL);
    const y = b.from(c);
    b.axpy(0.3, b.from(a), y, n);
    expect(maxRelErr(y.toArray(), reference.axpy(0.3, a, c))).toBeLessThan(TOL);
    const got = b.sumsq(b.from(a), n);
    expect(typeof got).toBe('number');
    expect(Math.abs(got - reference.sumsq(a)) / reference.sumsq(a)).toBeLessThan(SUMSQ_TOL);
  });

  test.each([
    [1, 1],
    [7, 300],
    [250, 301], // > 2·kParallelMin elements: the multi-threaded path
  ])('add_bias and bias_grad rows=%i cols=%i', (rows, cols) => {
    const y = randn(rows * cols, rows + cols),
      bias = randn(cols, cols),
      db0 = randn(cols, 3);
    const ty = b.from(y);
    b.addBias(ty, b.from(bias), rows, cols);
    expect(maxRelErr(ty.toArray(), reference.addBias(y, bias, rows, cols))).toBeLessThan(TOL);
    const db = b.from(db0);
    b.biasGrad(b.from(y), db, rows, cols);
    const want = Float64Array.from(reference.biasGrad(y, rows, cols), (v, i) => v + db0[i]);
    expect(maxRelErr(db.toArray(), want)).toBeLessThan(BIAS_TOL);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const t = b.f32(4);
    expect(() => b.add(t, t, b.f32(3), 4)).toThrow(/add: out has 3 elements but the shape needs 4/);
    expect(() => b.scale(t, NaN, 4)).toThrow(/scale: s must be a finite number, got NaN/);
    expect(() => b.axpy(Infinity, t, t, 4)).toThrow(/axpy: a must be a finite number/);
    expect(() => b.sumsq(b.i32(4), 4)).toThrow(/sumsq: x must be f32, got i32/);
    expect(() => b.addBias(t, t, 2, 0)).toThrow(/add_bias: cols must be an integer >= 1, got 0/);
    const { k, ref } = raw(b);
    expect(() => k.scale(ref(t), 1e39, 4)).toThrow(/scale: s must be finite, got inf/);
    expect(() => k.bias_grad(ref(t), ref(t), -2, 2)).toThrow(/bias_grad: rows must be > 0, got -2/);
  });
});

test('reference bias_grad is the gradient of add_bias (finite differences)', () => {
  const rows = 3,
    cols = 5;
  const y = randn(rows * cols, 1),
    bias = randn(cols, 2),
    dy = randn(rows * cols, 3);
  const f = (bb: Float64Array) => dot(dy, reference.addBias(y, bb, rows, cols));
  // float64 central differences of a linear function: exact up to rounding.
  expect(fdError(f, bias, reference.biasGrad(dy, rows, cols))).toBeLessThan(1e-8);
});
