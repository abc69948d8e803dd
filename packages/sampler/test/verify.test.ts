// Verified block decoding (mode 'verify'): its tokens must be exactly mode 'ar''s, with fewer
// forwards when guesses are right; guess sources and limits; clear errors.
import { contextLookup, decode, guessBudget, LONG_GUESSES, MAX_MATCH, VERIFY_BLOCK, type DecodeEvent } from '../src';
import { cycleNext, EOS, MASK, promptOf, tinyModel, trainedCycleModel } from './tiny-model';

const model = tinyModel();

describe('contextLookup', () => {
  const look = (ctx: number[], max: number) => {
    const r = contextLookup(Int32Array.from(ctx), ctx.length, max);
    return { guesses: Array.from(r.guesses), match: r.match };
  };

  test('continues the latest earlier occurrence of the longest matching suffix', () => {
    // suffix [1 2 3] (match 3) last seen at 4..6 → 7 8 5, then the context end, then periodically on
    const ctx = [1, 2, 3, 9, 1, 2, 3, 7, 8, 5, 1, 2, 3];
    expect(look(ctx, 3)).toEqual({ guesses: [7, 8, 5], match: 3 });
    expect(look(ctx, 8)).toEqual({ guesses: [7, 8, 5, 1, 2, 3, 7, 8], match: 3 });
    // a longer match wins over a later shorter one: [4 1 2] at 1..3 beats [1 2] at 5..6
    expect(look([9, 4, 1, 2, 6, 1, 2, 8, 4, 1, 2], 2)).toEqual({ guesses: [6, 1], match: 3 });
    // only a 1-gram repeats: 4 after the earlier 6
    expect(look([6, 4, 5, 6], 2)).toEqual({ guesses: [4, 5], match: 1 });
  });

  test('a loop is guessed onwards, not cut at its period', () => {
    // period 2: "x ," repeated; the match runs back over the whole loop
    expect(look([5, 0, 1, 0, 1, 0, 1], 5)).toEqual({ guesses: [0, 1, 0, 1, 0], match: 4 });
    expect(look([3, 3, 3], 4)).toEqual({ guesses: [3, 3, 3, 3], match: 2 });
  });

  test('match length is capped at MAX_MATCH; no match or no room gives no guesses', () => {
    const long = Array.from({ length: 3 * MAX_MATCH }, (_, i) => i % 7);
    expect(look(long, 3).match).toBe(MAX_MATCH);
    expect(look([1, 2, 3], 4)).toEqual({ guesses: [], match: 0 });
    expect(look([1], 4)).toEqual({ guesses: [], match: 0 });
    expect(look([1, 2, 1], 0)).toEqual({ guesses: [], match: 1 });
  });

  test('guessBudget grows with the match length and after a confirmed long run, never past the block', () => {
    expect([0, 1, 2, 3, 7, 8, 32].map((m) => guessBudget(m, 31))).toEqual([0, 1, 2, 6, 6, LONG_GUESSES, LONG_GUESSES]);
    expect([0, 1, 2, 3, 7, 8, 32].map((m) => guessBudget(m, 31, true))).toEqual([0, 1, 2, 6, 6, 31, 31]);
    expect([1, 3, 8].map((m) => guessBudget(m, 3))).toEqual([1, 3, 3]);
    expect(guessBudget(9, 11, true)).toBe(11);
  });
});

describe('on a random tiny model', () => {
  test.each([
    [1, 0, 5],
    [2, 0, 12],
    [4, 0, 7],
    [4, 4, 16],
    [6, 3, 30],
  ])('block %i, %i draft rows, prompt %i: the same tokens as mode ar', (blockSize, draftRows, plen) => {
    const prompt = promptOf(plen, 1);
    const o = { maxNewTokens: 40, stopAtEos: false };
    const ar = decode(model, prompt, { ...o, mode: 'ar' });
    const v = decode(model, prompt, { ...o, mode: 'verify', blockSize, draftRows });
    expect(Array.from(v.tokens)).toEqual(Array.from(ar.tokens));
    expect(v.stats.forwards).toBeLessThanOrEqual(ar.stats.forwards);
    expect(v.stats.accepted).toBeLessThanOrEqual(v.stats.drafted);
    expect(v.stats.generatedTokens).toBe(40);
    // every forward commits the confirmed guesses and one more token
    expect(v.stats.forwards).toBe(40 - v.stats.accepted);
  });

  test('events: one block per forward, committed positions contiguous from the prompt', () => {
    const prompt = promptOf(9);
    const events: DecodeEvent[] = [];
    const r = decode(model, prompt, {
      mode: 'verify',
      maxNewTokens: 20,
      stopAtEos: false,
      onEvent: (e) => events.push(e),
    });
    const steps = events.flatMap((e) => (e.type === 'step' ? [e] : []));
    expect(steps).toHaveLength(r.stats.forwards);
    const pos = steps.flatMap((s) => s.committed.map((c) => c.pos));
    expect(pos).toEqual(Array.from({ length: 20 }, (_, i) => 9 + i));
    expect(steps.flatMap((s) => s.committed.map((c) => c.token))).toEqual(Array.from(r.tokens));
    expect(r.stats.blockSize).toBe(VERIFY_BLOCK); // the verify default
  });

  test('EOS, max new tokens and the context bound the output as in mode ar', () => {
    const prompt = promptOf(10, 3);
    const ar = decode(model, prompt, { mode: 'ar', maxNewTokens: 60 });
    const v = decode(model, prompt, { mode: 'verify', maxNewTokens: 60 });
    expect(Array.from(v.tokens)).toEqual(Array.from(ar.tokens));
    expect(v.stats.stopReason).toBe(ar.stats.stopReason);
    const near = decode(model, promptOf(90), { mode: 'verify', maxNewTokens: 50, stopAtEos: false, draftRows: 4 });
    expect(near.tokens).toHaveLength(6);
    expect(near.stats.stopReason).toBe('context');
    const arNear = decode(model, promptOf(90), { mode: 'ar', maxNewTokens: 50, stopAtEos: false });
    expect(Array.from(near.tokens)).toEqual(Array.from(arNear.tokens));
    const sup = decode(model, prompt, { mode: 'verify', maxNewTokens: 30, suppressEos: true, stopAtEos: false });
    expect(Array.from(sup.tokens)).not.toContain(EOS);
    expect(Array.from(sup.tokens)).toEqual(
      Array.from(decode(model, prompt, { mode: 'ar', maxNewTokens: 30, suppressEos: true, stopAtEos: false }).tokens),
    );
  });

  test.each([
    [1.0, 0, 1, 4, 0],
    [0.7, 10, 0.9, 6, 3],
    [1.3, 0, 0.8, 32, 0],
    [0.5, 3, 1, 2, 0],
  ])(
    'temperature %f, top-k %i, top-p %f, block %i, %i draft rows: the same samples as mode ar for each seed',
    (temperature, topK, topP, blockSize, draftRows) => {
      const prompt = promptOf(9, 2);
      const o = { maxNewTokens: 36, stopAtEos: false, temperature, topK, topP };
      const outs = new Set<string>();
      for (const seed of [0, 1, 77]) {
        const ar = decode(model, prompt, { ...o, seed, mode: 'ar' });
        const v = decode(model, prompt, { ...o, seed, mode: 'verify', blockSize, draftRows });
        expect(Array.from(v.tokens)).toEqual(Array.from(ar.tokens));
        expect(v.stats.forwards).toBe(36 - v.stats.accepted);
        outs.add(Array.from(ar.tokens).join(','));
      }
      // the seeds sample different continuations (the check above is not of one fixed output)
      expect(outs.size).toBeGreaterThan(1);
    },
  );

  test('sampling with EOS: stops and suppression as in mode ar', () => {
    const prompt = promptOf(7, 3);
    for (const seed of [3, 4, 5, 6]) {
      for (const extra of [{ stopAtEos: true }, { stopAtEos: false, suppressEos: true }]) {
        const o = { maxNewTokens: 40, temperature: 1.5, seed, ...extra };
        const ar = decode(model, prompt, { ...o, mode: 'ar' });
        const v = decode(model, prompt, { ...o, mode: 'verify', blockSize: 8 });
        expect(Array.from(v.tokens)).toEqual(Array.from(ar.tokens));
        expect(v.stats.stopReason).toBe(ar.stats.stopReason);
      }
    }
  });

  test('clear errors: self-correction, draft rows, a model without forwardVerify', () => {
    expect(() => decode(model, [1, 2], { mode: 'verify', selfCorrect: true })).toThrow(/selfCorrect/);
    expect(() => decode(model, [1, 2], { mode: 'verify', draftRows: -1 })).toThrow(
      /draftRows: must be an integer >= 0/,
    );
    const plain = { config: model.config, newCache: () => model.newCache(), prefill: () => undefined };
    expect(() => decode(plain as never, [1, 2], { mode: 'verify' })).toThrow(/needs a model with forwardVerify/);
    expect(() => decode(model, [1, MASK], { mode: 'verify' })).toThrow(/prompt token 1 is 63/);
  });
});

test('on a trained model, repeated code is confirmed several tokens per forward, identical to mode ar', () => {
  const m = trainedCycleModel([1, 4, 8], { steps: 120 });
  const prompt = Array.from({ length: 20 }, (_, i) => cycleNext(i));
  const o = { maxNewTokens: 48, stopAtEos: false };
  const ar = decode(m, prompt, { ...o, mode: 'ar' });
  for (const draftRows of [0, 4]) {
    const v = decode(m, prompt, { ...o, mode: 'verify', blockSize: 6, draftRows });
    expect(Array.from(v.tokens)).toEqual(Array.from(ar.tokens));
    expect(v.stats.tokensPerForward).toBeGreaterThan(1.5);
  }
  // Sampling: still AR's tokens for the seed, and a confident model still confirms several per forward.
  const s = { ...o, temperature: 0.7, topP: 0.95, seed: 11 };
  const arS = decode(m, prompt, { ...s, mode: 'ar' });
  const vS = decode(m, prompt, { ...s, mode: 'verify', blockSize: 6 });
  expect(Array.from(vS.tokens)).toEqual(Array.from(arS.tokens));
  expect(vS.stats.tokensPerForward).toBeGreaterThan(1.5);
});
