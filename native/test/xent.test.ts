// Cross-entropy with the [MASK] logit forced to -inf, weights, grad scale and in-place
// gradients, against the float64 reference (its gradient checked by finite differences).
import { reference } from '../lib';
import { backends, fdError, maxAbsErr, maxRelErr, randInt, randn, raw } from './helpers';

// Loss: log-sum-exp of V float32 terms, ~1e-6 relative. Gradients are probabilities
// (<= 1) times the weight: 1e-6 absolute.
const LOSS_TOL = 1e-5;
const GRAD_TOL = 1e-6;

describe.each(backends())('%s backend', (_name, b) => {
  test.each([
    [1, 2, -1],
    [7, 37, 5],
    [33, 1000, 999],
    [64, 3001, 0],
  ])('N=%i V=%i maskId=%i', (N, V, maskId) => {
    const logits = randn(N * V, N + V, 4);
    const targets = randInt(N, N * V, 0, V);
    for (let r = 0; r < N; r++) if (targets[r] === maskId) targets[r] = (maskId + 1) % V;
    if (maskId >= 0) logits[maskId] = 1000; // a huge [MASK] logit must not matter
    const weights = randn(N, 3, 2);
    weights[0] = 0; // weight-0 rows: zero gradient, loss still reported
    const gs = 0.37;
    const want = reference.xent(logits, targets, weights, N, V, maskId, gs);
    const tl = b.from(logits),
      tt = b.from(targets),
      tw = b.from(weights);
    const loss = b.f32(N),
      d = b.f32(N * V);
    b.xent(tl, tt, tw, loss, d, N, V, maskId, gs);
    expect(maxRelErr(loss.toArray(), want.loss)).toBeLessThan(LOSS_TOL);
    expect(maxAbsErr(d.toArray(), want.dlogits)).toBeLessThan(GRAD_TOL);
    // In place: dlogits aliases logits; without dlogits only the loss is written.
    const loss2 = b.f32(N);
    b.xent(tl, tt, tw, loss2, tl, N, V, maskId, gs);
    expect(maxAbsErr(tl.toArray(), want.dlogits)).toBeLessThan(GRAD_TOL);
    expect(Array.from(loss2.toArray())).toEqual(Array.from(loss.toArray()));
    const loss3 = b.f32(N);
    b.xent(b.from(logits), tt, tw, loss3, null, N, V, maskId, gs);
    expect(Array.from(loss3.toArray())).toEqual(Array.from(loss.toArray()));
  });

  test('bad calls throw errors naming the op, the row and the id', () => {
    const logits = b.f32(12);
    const w = b.from(new Float32Array([1, 1, 1]));
    const loss = b.f32(3);
    expect(() => b.xent(logits, b.from(new Int32Array([0, 2, 1])), w, loss, null, 3, 4, 2)).toThrow(
      /xent: targets\[1\] = 2 is the mask id/,
    );
    expect(() => b.xent(logits, b.from(new Int32Array([0, 1, 4])), w, loss, null, 3, 4, -1)).toThrow(
      /xent: targets\[2\] = 4 is outside \[0, V = 4\)/,
    );
    expect(() => b.xent(logits, b.from(new Int32Array([-3, 1, 1])), w, loss, null, 3, 4, -1)).toThrow(
      /xent: targets\[0\] = -3 is outside/,
    );
    expect(() => b.xent(logits, b.i32(3), w, loss, null, 3, 4, 4)).toThrow(/xent: maskId must be an integer < V/);
    expect(() => b.xent(logits, b.i32(3), w, loss, null, 3, 4, -1, NaN)).toThrow(/xent: gradScale must be a finite/);
    expect(() => b.xent(logits, b.i32(3), b.from(new Float32Array([1, NaN, 1])), loss, null, 3, 4, -1)).toThrow(
      /xent: weights\[1\] must be finite/,
    );
    // An error leaves the aliased buffer untouched (rows are checked before any is written).
    const l = b.from(randn(12, 1));
    const before = Array.from(l.toArray());
    expect(() => b.xent(l, b.from(new Int32Array([0, 1, 9])), w, loss, l, 3, 4, -1)).toThrow(/targets\[2\] = 9/);
    expect(Array.from(l.toArray())).toEqual(before);
    const { k, ref } = raw(b);
    expect(() => k.xent(ref(l), ref(b.i32(3)), ref(w), ref(loss), ref(null), 3, 4, 7, 1)).toThrow(
      /xent: mask_id must be -1 \(none\) or in \[0, V = 4\), got 7/,
    );
  });
});

test('reference xent gradient matches finite differences of the weighted loss', () => {
  const N = 3,
    V = 6,
    maskId = 2;
  const logits = randn(N * V, 1, 3);
  const targets = new Int32Array([0, 5, 3]);
  const weights = new Float32Array([0.5, 0, 2]);
  const gs = 0.8;
  const f = (x: Float64Array) => {
    const { loss } = reference.xent(x, targets, weights, N, V, maskId, gs);
    return loss.reduce((a, l, r) => a + weights[r] * gs * l, 0);
  };
  const { dlogits } = reference.xent(logits, targets, weights, N, V, maskId, gs);
  expect(fdError(f, logits, dlogits)).toBeLessThan(1e-7);
});
