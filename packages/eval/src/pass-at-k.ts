/**
 * Unbiased pass@k estimator (Chen et al. 2021): 1 − C(n−c, k) / C(n, k), computed as the product
 * 1 − Π_{i=n−c+1}^{n} (1 − k/i) so no binomial overflows. n samples of which c passed.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`passAtK: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(c) || c < 0 || c > n) throw new Error(`passAtK: c must be an integer in [0, n=${n}], got ${c}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`passAtK: k must be an integer in [1, n=${n}], got ${k}`);
  if (n - c < k) return 1;
  let prod = 1;
  for (let i = n - c + 1; i <= n; i++) prod *= 1 - k / i;
  return 1 - prod;
}

/** Mean pass@k over tasks, each given as [n, c]; null when some task has fewer than k samples. */
export function meanPassAtK(counts: ReadonlyArray<readonly [number, number]>, k: number): number | null {
  if (counts.length === 0 || counts.some(([n]) => n < k)) return null;
  let sum = 0;
  for (const [n, c] of counts) sum += passAtK(n, c, k);
  return sum / counts.length;
}
