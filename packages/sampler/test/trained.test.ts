// Behaviour that needs a model that has learnt something: a few seconds of block-diffusion training
// (the model package's Trainer) on a cyclic token stream, then decoding it.
import type { Model } from '@seed-diffusion/model';

import { decode } from '../src';
import { cycleNext as next, trainedCycleModel } from './tiny-model'; // one OpenMP thread

let model: Model;

beforeAll(() => {
  model = trainedCycleModel([1, 4, 8, 16], { steps: 150, editStart: 1 });
});

const prompt = Array.from({ length: 10 }, (_, i) => next(i));
const truth = Array.from({ length: 32 }, (_, i) => next(i + 10));
const matches = (t: Int32Array) => Array.from(t).filter((x, i) => x === truth[i]).length;

test('the trained model continues the stream autoregressively', () => {
  const ar = decode(model, prompt, { mode: 'ar', maxNewTokens: 32, stopAtEos: false });
  expect(ar.stats.tokensPerForward).toBe(1);
  expect(matches(ar.tokens)).toBeGreaterThanOrEqual(20);
});

test('confident positions commit in parallel: more than one token per forward, same tokens with and without the cache', () => {
  const o = { blockSize: 16, maxNewTokens: 32, stopAtEos: false, threshold: 0.5 };
  const cached = decode(model, prompt, o);
  const full = decode(model, prompt, { ...o, mode: 'nocache' });
  expect(Array.from(cached.tokens)).toEqual(Array.from(full.tokens));
  expect(cached.stats.tokensPerForward).toBeGreaterThan(1.5);
  expect(matches(cached.tokens)).toBeGreaterThanOrEqual(12);
  // a stricter threshold spends more forwards
  const strict = decode(model, prompt, { ...o, threshold: 0.99 });
  expect(strict.stats.forwards).toBeGreaterThan(cached.stats.forwards);
});
