import { meanPassAtK, passAtK } from '../src';

// exact binomials for the hand-computed cases
function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

test('pass@k matches hand-computed values', () => {
  expect(passAtK(10, 0, 1)).toBe(0);
  expect(passAtK(10, 10, 1)).toBe(1);
  expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12); // c/n
  expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12); // 1 - C(3,2)/C(5,2) = 1 - 3/10
  expect(passAtK(20, 5, 10)).toBeCloseTo(1 - 3003 / 184756, 12); // 1 - C(15,10)/C(20,10)
  expect(passAtK(10, 1, 10)).toBe(1); // n - c < k
  expect(passAtK(200, 17, 10)).toBeCloseTo(1 - choose(183, 10) / choose(200, 10), 10);
});

test('mean pass@k averages tasks and is null when a task has fewer than k samples', () => {
  expect(
    meanPassAtK(
      [
        [10, 3],
        [10, 0],
      ],
      1,
    ),
  ).toBeCloseTo(0.15, 12);
  expect(
    meanPassAtK(
      [
        [1, 1],
        [1, 0],
      ],
      10,
    ),
  ).toBeNull();
  expect(meanPassAtK([], 1)).toBeNull();
});

test('bad arguments name the argument', () => {
  expect(() => passAtK(0, 0, 1)).toThrow(/n must be/);
  expect(() => passAtK(5, 6, 1)).toThrow(/c must be/);
  expect(() => passAtK(5, 1, 6)).toThrow(/k must be/);
});
