// Decoding statistics (token, probability, entropy, margin) after mask/ban, temperature,
// top-k and top-p, greedy and sampled, against the float64 reference.
import { DecodeParams, reference } from '../lib';
import { backends, maxRelErr, randn, raw, rng } from './helpers';

// Softmax over V float32 terms: ~1e-6 relative; entropy sums V terms: 1e-5.
const TOL = 1e-5;

describe.each(backends())('%s backend', (_name, b) => {
  const cases: [string, number, number, DecodeParams, boolean][] = [
    ['greedy', 5, 37, { maskId: 3 }, false],
    ['greedy, temperature 0 with ban', 9, 101, { maskId: 0, banId: 7, temperature: 0 }, false],
    ['sample T=0.7', 16, 53, { maskId: 52, temperature: 0.7 }, true],
    ['sample top-k 5', 16, 61, { maskId: 1, temperature: 1.3, topK: 5 }, true],
    ['sample top-p 0.9', 16, 71, { temperature: 1, topP: 0.9 }, true],
    ['top-k 10 + top-p 0.5, greedy', 7, 90, { maskId: 4, banId: 5, topK: 10, topP: 0.5 }, false],
    ['sample top-k + top-p', 16, 2001, { maskId: 2000, temperature: 0.9, topK: 40, topP: 0.8 }, true],
    ['batch 1, V 1', 1, 1, { temperature: 1 }, true],
    ['temperature 0 stays greedy with uniforms', 6, 29, { temperature: 0, topK: 3 }, true],
  ];
  test.each(cases)('%s (N=%i V=%i)', (_label, N, V, p, sample) => {
    const logits = randn(N * V, N * V, 4);
    const r = rng(N + V);
    const u = sample ? Float32Array.from({ length: N }, () => r()) : null;
    const tok = b.i32(N),
      prob = b.f32(N),
      ent = b.f32(N),
      mar = b.f32(N);
    b.decodeRows(b.from(logits), N, V, p, u && b.from(u), tok, prob, ent, mar);
    const want = reference.decodeRows(logits, N, V, p, u);
    expect(Array.from(tok.toArray())).toEqual(Array.from(want.tok));
    expect(maxRelErr(prob.toArray(), want.prob)).toBeLessThan(TOL);
    expect(maxRelErr(ent.toArray(), want.entropy)).toBeLessThan(TOL);
    expect(maxRelErr(mar.toArray(), want.margin)).toBeLessThan(TOL);
    for (const t of tok.toArray()) expect(t === p.maskId || t === p.banId).toBe(false);
    if (!((p.temperature ?? 0) > 0)) {
      // Greedy: the argmax of the logits other than the mask/ban ids, uniforms or not.
      for (let row = 0; row < N; row++) {
        let best = -1;
        for (let j = 0; j < V; j++)
          if (j !== p.maskId && j !== p.banId && (best < 0 || logits[row * V + j] > logits[row * V + best])) best = j;
        expect(tok.toArray()[row]).toBe(best);
      }
    }
    // Optional outputs may be omitted.
    const tok2 = b.i32(N);
    b.decodeRows(b.from(logits), N, V, p, u && b.from(u), tok2, null, null, null);
    expect(Array.from(tok2.toArray())).toEqual(Array.from(want.tok));
  });

  test('top-k keeps ties at the cut; sampling follows the inverse CDF', () => {
    const logits = b.from(new Float32Array([1, 1, 1, 0.5, -2]));
    const tok = b.i32(1),
      prob = b.f32(1),
      mar = b.f32(1);
    b.decodeRows(logits, 1, 5, { topK: 2, temperature: 1 }, b.from(new Float32Array([0.7])), tok, prob, null, mar);
    expect(tok.toArray()[0]).toBe(2); // three tied tokens of 1/3 each; u = 0.7 falls in the third
    expect(prob.toArray()[0]).toBeCloseTo(1 / 3, 6);
    expect(mar.toArray()[0]).toBeCloseTo(0, 6);
  });

  test('bad calls throw errors naming the op and the problem', () => {
    const l = b.f32(8);
    const tok = b.i32(2);
    expect(() => b.decodeRows(l, 2, 4, { topP: 0 }, null, tok, null, null, null)).toThrow(
      /decode_rows: topP must be in \(0, 1\]/,
    );
    expect(() => b.decodeRows(l, 2, 4, { maskId: 4 }, null, tok, null, null, null)).toThrow(
      /decode_rows: maskId must be an integer < V/,
    );
    expect(() => b.decodeRows(l, 2, 4, { temperature: NaN }, null, tok, null, null, null)).toThrow(
      /decode_rows: temperature must be a finite number/,
    );
    expect(() => b.decodeRows(l, 2, 4, {}, b.from(new Float32Array([0.5, 1])), tok, null, null, null)).toThrow(
      /decode_rows: uniforms\[1\] must be in \[0, 1\), got 1/,
    );
    expect(() => b.decodeRows(l, 2, 4, {}, null, b.f32(2), null, null, null)).toThrow(/decode_rows: tok must be i32/);
    expect(() => b.decodeRows(b.f32(2), 2, 1, { maskId: 0 }, null, tok, null, null, null)).toThrow(
      /decode_rows: row 0 has no finite logit left/,
    );
    const { k, ref } = raw(b);
    expect(() =>
      k.decode_rows(ref(l), 2, 4, -1, 9, 1, 0, 1, ref(null), ref(tok), ref(null), ref(null), ref(null)),
    ).toThrow(/decode_rows: ban_id must be -1 \(none\) or in \[0, V = 4\), got 9/);
  });
});
