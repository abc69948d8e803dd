// AdamW steps against the float64 reference (torch.optim.AdamW semantics, grad scale first).
import { reference } from '../lib';
import { backends, maxRelErr, randn, raw } from './helpers';

// A handful of float32 operations per element per step: 1e-5 relative after 3 steps.
const TOL = 1e-5;

describe.each(backends())('%s backend', (_name, b) => {
  test.each([1, 1001, 40001])('three steps n=%i', (n) => {
    let p: ArrayLike<number> = randn(n, n);
    let m: ArrayLike<number> = new Float32Array(n);
    let v: ArrayLike<number> = new Float32Array(n);
    const tp = b.from(Float32Array.from(p)),
      tm = b.f32(n),
      tv = b.f32(n);
    for (let step = 1; step <= 3; step++) {
      const g = randn(n, n + step, 3);
      const h = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, gradScale: 0.5, step };
      b.adamw(tp, b.from(g), tm, tv, n, h);
      // The reference continues from the kernel's float32 state, so errors do not compound.
      const want = reference.adamw(p, g, m, v, h);
      expect(maxRelErr(tp.toArray(), want.param)).toBeLessThan(TOL);
      expect(maxRelErr(tm.toArray(), want.m)).toBeLessThan(TOL);
      expect(maxRelErr(tv.toArray(), want.v)).toBeLessThan(TOL);
      p = tp.toArray();
      m = tm.toArray();
      v = tv.toArray();
    }
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const t = b.f32(4);
    const h = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 };
    expect(() => b.adamw(t, t, t, t, 4, { ...h, step: 0 })).toThrow(/adamw: step must be an integer >= 1, got 0/);
    expect(() => b.adamw(t, t, t, t, 4, { ...h, lr: NaN })).toThrow(/adamw: lr must be a finite number/);
    expect(() => b.adamw(t, t, t, t, 4, { ...h, beta1: 1 })).toThrow(/adamw: beta1 must be in \[0, 1\), got 1/);
    expect(() => b.adamw(t, t, t, t, 4, { ...h, eps: 0 })).toThrow(/adamw: eps must be > 0/);
    expect(() => b.adamw(t, t, b.f32(3), t, 4, h)).toThrow(/adamw: m has 3 elements/);
    const { k, ref } = raw(b);
    const r = ref(t);
    expect(() => k.adamw(r, r, r, r, 4, 1e-3, 0.9, 0.999, 1e-8, -1, 1, 1)).toThrow(
      /adamw: weight_decay must be >= 0, got -1/,
    );
  });
});
