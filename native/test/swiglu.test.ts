// SwiGLU forward/backward against float64 references (the backward checked by finite
// differences), including large |gate| where sigmoid saturates.
import { reference } from '../lib';
import { backends, dot, fdError, maxRelErr, randn } from './helpers';

// The polynomial exp is within a few ulp: 1e-6 relative on each output.
const TOL = 1e-6;

describe.each(backends())('%s backend', (_name, b) => {
  test('an element does not depend on n or on where the call starts (vector tail)', () => {
    const gate = randn(1001, 31, 4),
      up = randn(1001, 32);
    const all = b.f32(1001);
    b.swigluFwd(b.from(gate), b.from(up), all, 1001);
    const part = b.f32(13);
    b.swigluFwd(b.from(gate.subarray(5, 18)), b.from(up.subarray(5, 18)), part, 13);
    expect(Array.from(part.toArray())).toEqual(Array.from(all.toArray().subarray(5, 18)));
  });

  test.each([1, 17, 1001, 70001])('forward and backward n=%i', (n) => {
    const gate = randn(n, n, 6),
      up = randn(n, n + 1, 2),
      dout = randn(n, n + 2);
    gate[0] = n > 1 ? -40 : 30; // saturated sigmoid
    const tg = b.from(gate),
      tu = b.from(up);
    const out = b.f32(n);
    b.swigluFwd(tg, tu, out, n);
    expect(maxRelErr(out.toArray(), reference.swigluFwd(gate, up))).toBeLessThan(TOL);
    const dg0 = randn(n, 9),
      du0 = randn(n, 10);
    const dg = b.from(dg0),
      du = b.from(du0);
    b.swigluBwd(tg, tu, b.from(dout), dg, du, n);
    const g = reference.swigluBwd(gate, up, dout);
    expect(
      maxRelErr(
        dg.toArray(),
        Float64Array.from(g.dgate, (v, i) => v + dg0[i]),
      ),
    ).toBeLessThan(TOL);
    expect(
      maxRelErr(
        du.toArray(),
        Float64Array.from(g.dup, (v, i) => v + du0[i]),
      ),
    ).toBeLessThan(TOL);
    b.swigluFwd(tg, tu, tg, n); // out may alias gate
    expect(maxRelErr(tg.toArray(), reference.swigluFwd(gate, up))).toBeLessThan(TOL);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const t = b.f32(4);
    expect(() => b.swigluFwd(t, t, b.f32(2), 4)).toThrow(/swiglu_fwd: out has 2 elements/);
    expect(() => b.swigluBwd(t, t, t, t, b.i32(4), 4)).toThrow(/swiglu_bwd: dup must be f32/);
  });
});

test('reference swiglu backward matches finite differences', () => {
  const n = 9;
  const gate = randn(n, 1, 4),
    up = randn(n, 2),
    dout = randn(n, 3);
  const g = reference.swigluBwd(gate, up, dout);
  // float64 central differences, h = 1e-5.
  expect(fdError((x) => dot(dout, reference.swigluFwd(x, up)), gate, g.dgate)).toBeLessThan(1e-8);
  expect(fdError((x) => dot(dout, reference.swigluFwd(gate, x)), up, g.dup)).toBeLessThan(1e-8);
});
