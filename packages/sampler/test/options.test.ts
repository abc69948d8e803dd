import { DEFAULT_OPTIONS, resolveOptions } from '../src/options';
import { Uniforms } from '../src/rng';

test('defaults follow techniques §6.6 / Fast-dLLM', () => {
  const o = resolveOptions();
  expect(o).toMatchObject({ mode: 'cache', blockSize: 32, policy: 'threshold', threshold: 0.9, temperature: 0 });
  expect(resolveOptions({ threshold: undefined }).threshold).toBe(DEFAULT_OPTIONS.threshold);
});

test('an unknown option is an error that names it', () => {
  expect(() => resolveOptions({ blocksize: 8 } as never)).toThrow(/unknown sampler option "blocksize"/);
});

test('bad values name the field', () => {
  expect(() => resolveOptions({ blockSize: 0 })).toThrow(/blockSize/);
  expect(() => resolveOptions({ threshold: 1.5 })).toThrow(/threshold/);
  expect(() => resolveOptions({ topP: 0 })).toThrow(/topP/);
  expect(() => resolveOptions({ policy: 'greedy' as never })).toThrow(/policy/);
  expect(() => resolveOptions({ mode: 'fast' as never })).toThrow(/mode/);
  expect(() => resolveOptions({ temperature: -1 })).toThrow(/temperature/);
  expect(() => resolveOptions({ maxNewTokens: 0 })).toThrow(/maxNewTokens/);
});

test("mode 'ar' means blocks of one token", () => {
  expect(resolveOptions({ mode: 'ar' }).blockSize).toBe(1);
  expect(() => resolveOptions({ mode: 'ar', blockSize: 8 })).toThrow(/blockSize must be 1/);
});

test('uniforms are reproducible from the seed, in [0, 1) and differ across seeds', () => {
  const a = new Uniforms(7).fill(1000);
  const b = new Uniforms(7).fill(1000);
  const c = new Uniforms(8).fill(1000);
  expect(a).toEqual(b);
  expect(a).not.toEqual(c);
  expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...a)).toBeLessThan(1);
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
});

test('uniforms give draw i directly: at(i) and range(i0, n) equal the sequential stream', () => {
  const seq = new Uniforms(123456789);
  const first = Array.from({ length: 5000 }, () => seq.next());
  const direct = new Uniforms(123456789);
  for (const i of [0, 1, 2, 17, 999, 4096, 4999]) expect(direct.at(i)).toBe(first[i]);
  const s = new Uniforms(42);
  s.fill(300); // what has been drawn does not move at/range
  expect(s.range(300, 40)).toEqual(new Uniforms(42).fill(340).subarray(300));
  expect(s.fill(40)).toEqual(s.range(300, 40));
  expect(() => s.at(-1)).toThrow(/index must be an integer >= 0/);
});
