// KV cache append: rows land at [len, len + T), the rest is untouched.
import { reference } from '../lib';
import { backends, maxRelErr, randn, raw } from './helpers';

describe.each(backends())('%s backend', (_name, b) => {
  test('two appends fill consecutive rows (exact copy)', () => {
    const row = 13,
      maxLen = 11;
    const c0 = randn(row * maxLen, 1);
    const cache = b.from(c0);
    const a = randn(3 * row, 2),
      c = randn(8 * row, 3);
    b.kvAppend(cache, b.from(a), 0, 3, row, maxLen);
    b.kvAppend(cache, b.from(c), 3, 8, row, maxLen);
    const want = reference.kvAppend(reference.kvAppend(c0, a, 0, row), c, 3, row);
    expect(maxRelErr(cache.toArray(), want)).toBe(0);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const cache = b.f32(20);
    expect(() => b.kvAppend(cache, b.f32(8), 4, 2, 4, 5)).toThrow(/kv_append: appending 2 rows at 4 overflows/);
    expect(() => b.kvAppend(cache, b.f32(8), -1, 2, 4, 5)).toThrow(/kv_append: len must be an integer >= 0/);
    const { k, ref } = raw(b);
    expect(() => k.kv_append(ref(cache), ref(b.f32(8)), 4, 2, 4, 5)).toThrow(
      /kv_append: appending T = 2 rows at len = 4 overflows max_len = 5/,
    );
  });
});
