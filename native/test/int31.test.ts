// Counts and positions near 2^31: attention with qOffset or block near 2^31 (positions past int32
// inside the key-span arithmetic) gives the same output as the equivalent small-number call; sumsq
// over n >= 2^31 - 16383 elements is right (it returned 0); anything past 2^31 - 1, or past what a
// backend can address, is a clear error.
import * as os from 'node:os';

import { backends, randn } from './helpers';

const I31 = 0x7fffffff;

describe.each(backends())('%s backend', (name, b) => {
  const T = 8;
  const H = 2;
  const D = 8;
  const q = b.from(randn(T * H * D, 1));
  const k = b.from(randn(T * H * D, 2));
  const v = b.from(randn(T * H * D, 3));
  const run = (shape: Record<string, unknown>) => {
    const out = b.f32(T * H * D);
    b.attentionFwd(q, k, v, out, null, { Tq: T, Tk: T, Hq: H, Hkv: H, D, ...shape } as never);
    return Buffer.from((b.read(out) as Float32Array).buffer);
  };

  test('causal with qOffset near 2^31 sees every key (as bidir), not zeros', () => {
    const bidir = run({ mask: 'bidir' });
    for (const qOffset of [I31 - 10, I31 - T, I31 - 1, 2 ** 30 + 7]) {
      expect(run({ mask: 'causal', qOffset }).equals(bidir)).toBe(true);
    }
  });

  test('block_causal with block near 2^31 equals the same mask with a block past the keys', () => {
    for (const origin of [0, 3]) {
      const small = run({ mask: 'block_causal', block: 1000, origin });
      for (const block of [I31, I31 - 1, 2 ** 30 + 1]) {
        expect(run({ mask: 'block_causal', block, origin }).equals(small)).toBe(true);
      }
      const smallOff = run({ mask: 'block_causal', block: 1000, origin, qOffset: 2 });
      expect(run({ mask: 'block_causal', block: I31, origin, qOffset: 2 }).equals(smallOff)).toBe(true);
    }
  });

  test('counts past 2^31 - 1 are clear errors at the boundary', () => {
    const x = b.f32(16);
    expect(() => b.sumsq(x, 2 ** 31)).toThrow(/n = 2147483648 exceeds 2\^31 - 1/);
    expect(() =>
      b.attentionFwd(q, k, v, b.f32(1), null, { Tq: T, Tk: T, Hq: H, Hkv: H, D, mask: 'causal', qOffset: 2 ** 31 }),
    ).toThrow(/qOffset = 2147483648 exceeds 2\^31 - 1/);
    if (name === 'wasm') expect(() => b.f32(2 ** 31)).toThrow(/exceed the 4 GiB address space/);
  });

  // 8 GiB of float32: run where the memory is there (a note says so otherwise).
  const bigOk = name === 'cpu' && os.freemem() > 12 * 2 ** 30 && process.env.SD_SKIP_BIG !== '1';
  if (name === 'cpu')
    (bigOk ? test : test.skip)(
      `sumsq over 2^31 - 100 elements is exact${bigOk ? '' : ' [skipped: needs 12 GiB of free memory (or SD_SKIP_BIG=1 was set)]'}`,
      () => {
        const n = I31 - 100;
        const x = b.f32(n);
        (x.data as Float32Array).fill(1);
        (x.data as Float32Array)[n - 1] = 3;
        expect(b.sumsq(x, n)).toBe(n - 1 + 9);
        b.free(x);
      },
    );
  if (!bigOk && name === 'cpu') {
    console.log(
      `skipped: sumsq over 2^31 - 100 elements needs 12 GiB free memory (free: ${(os.freemem() / 2 ** 30).toFixed(1)} GiB)`,
    );
  }
});
