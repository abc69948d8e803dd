// Token embedding gather / scatter-add against float64 references.
import { reference } from '../lib';
import { backends, dot, fdError, maxRelErr, randInt, randn, raw } from './helpers';

// The forward is a copy (exact); the backward sums a few float32 values per row: 1e-6.
const TOL = 1e-6;

describe.each(backends())('%s backend', (_name, b) => {
  test.each([
    [1, 1, 1],
    [13, 11, 19],
    [4000, 37, 33], // repeated ids, large enough for the column-parallel backward
  ])('forward and backward n=%i vocab=%i dim=%i', (n, vocab, dim) => {
    const ids = randInt(n, n + vocab, 0, vocab);
    const table = randn(vocab * dim, dim);
    const out = b.f32(n * dim);
    b.embeddingFwd(b.from(ids), b.from(table), out, n, vocab, dim);
    expect(maxRelErr(out.toArray(), reference.embeddingFwd(ids, table, n, dim))).toBe(0);
    const dout = randn(n * dim, 5),
      d0 = randn(vocab * dim, 6);
    const dt = b.from(d0);
    b.embeddingBwd(b.from(ids), b.from(dout), dt, n, vocab, dim);
    const want = Float64Array.from(reference.embeddingBwd(ids, dout, n, vocab, dim), (v, i) => v + d0[i]);
    expect(maxRelErr(dt.toArray(), want)).toBeLessThan(n > 100 ? 1e-5 : TOL);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const table = b.f32(12);
    const out = b.f32(6);
    expect(() => b.embeddingFwd(b.from(new Int32Array([0, 4])), table, out, 2, 4, 3)).toThrow(
      /embedding_fwd: ids\[1\] = 4 is outside \[0, vocab = 4\)/,
    );
    expect(() => b.embeddingBwd(b.from(new Int32Array([-1, 0])), out, table, 2, 4, 3)).toThrow(
      /embedding_bwd: ids\[0\] = -1 is outside \[0, vocab = 4\)/,
    );
    expect(() => b.embeddingFwd(b.f32(2), table, out, 2, 4, 3)).toThrow(/embedding_fwd: ids must be i32, got f32/);
    expect(() => b.embeddingFwd(b.i32(2), table, out, 2, 5, 3)).toThrow(/table has 12 elements but the shape needs 15/);
    const { k, ref } = raw(b);
    expect(() => k.embedding_fwd(ref(b.i32(2)), ref(table), ref(out), 2, 0, 3)).toThrow(
      /embedding_fwd: vocab must be > 0, got 0/,
    );
  });
});

test('reference embedding backward is the gradient of the forward (finite differences)', () => {
  const n = 6,
    vocab = 4,
    dim = 3;
  const ids = new Int32Array([1, 3, 1, 0, 1, 2]);
  const dout = randn(n * dim, 1);
  const f = (t: Float64Array) => dot(dout, reference.embeddingFwd(ids, t, n, dim));
  expect(fdError(f, randn(vocab * dim, 2), reference.embeddingBwd(ids, dout, n, vocab, dim))).toBeLessThan(1e-8);
});
