// RMSNorm backward against the float64 reference (itself checked by finite differences).
import { reference } from '../lib';
import { backends, dot, fdError, maxRelErr, randn } from './helpers';

// Row reductions of `dim` float32 terms: ~1e-6 relative; dw sums over rows as well.
const TOL = 2e-5;

describe.each(backends())('%s backend', (_name, b) => {
  test.each([
    [1, 1],
    [5, 23],
    [150, 301], // multi-threaded rows and column chunks for dw
  ])('rmsnorm_bwd rows=%i dim=%i', (rows, dim) => {
    const eps = 1e-5;
    const x = randn(rows * dim, rows, 2),
      w = randn(dim, dim),
      dy = randn(rows * dim, 3);
    const tx = b.from(x),
      tw = b.from(w),
      rstd = b.f32(rows);
    b.rmsnormFwd(tx, tw, b.f32(rows * dim), rstd, rows, dim, eps);
    const dx0 = randn(rows * dim, 4),
      dw0 = randn(dim, 5);
    const dx = b.from(dx0),
      dw = b.from(dw0);
    b.rmsnormBwd(tx, tw, rstd, b.from(dy), dx, dw, rows, dim);
    const g = reference.rmsnormBwd(x, w, dy, rows, dim, eps);
    expect(
      maxRelErr(
        dx.toArray(),
        Float64Array.from(g.dx, (v, i) => v + dx0[i]),
      ),
    ).toBeLessThan(TOL);
    expect(
      maxRelErr(
        dw.toArray(),
        Float64Array.from(g.dw, (v, i) => v + dw0[i]),
      ),
    ).toBeLessThan(TOL);
    // dw is optional.
    const dx2 = b.f32(rows * dim);
    b.rmsnormBwd(tx, tw, rstd, b.from(dy), dx2, null, rows, dim);
    expect(maxRelErr(dx2.toArray(), g.dx)).toBeLessThan(TOL);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const t = b.f32(6);
    expect(() => b.rmsnormBwd(t, t, b.f32(1), t, t, null, 2, 3)).toThrow(/rmsnorm_bwd: rstd has 1 elements/);
    expect(() => b.rmsnormBwd(t, t, t, t, b.i32(6), null, 2, 3)).toThrow(/rmsnorm_bwd: dx must be f32/);
  });
});

test('reference rmsnorm backward matches finite differences', () => {
  const rows = 3,
    dim = 7,
    eps = 1e-5;
  const x = randn(rows * dim, 1, 2),
    w = randn(dim, 2),
    dy = randn(rows * dim, 3);
  const g = reference.rmsnormBwd(x, w, dy, rows, dim, eps);
  // Central differences in float64, h = 1e-5: truncation ~1e-10.
  expect(fdError((xx) => dot(dy, reference.rmsnorm(xx, w, rows, dim, eps).y), x, g.dx)).toBeLessThan(1e-6);
  expect(fdError((ww) => dot(dy, reference.rmsnorm(x, ww, rows, dim, eps).y), w, g.dw)).toBeLessThan(1e-6);
});
