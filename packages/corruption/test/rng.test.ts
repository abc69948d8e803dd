import { Rng } from '../src';

describe('Rng', () => {
  it('is deterministic from the seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xa = Array.from({ length: 100 }, () => a.uint32());
    const xb = Array.from({ length: 100 }, () => b.uint32());
    const xc = Array.from({ length: 100 }, () => c.uint32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('saves and restores its state for an exact resume', () => {
    const a = new Rng(7);
    for (let i = 0; i < 1000; i++) a.next();
    const s = a.state();
    expect(s).toHaveLength(4);
    const b = Rng.fromState(JSON.parse(JSON.stringify(s)) as number[]);
    for (let i = 0; i < 1000; i++) expect(b.next()).toBe(a.next());
  });

  it('next() is uniform on [0,1): mean and variance within 4σ over 200k draws', () => {
    const r = new Rng(1);
    const n = 200000;
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    // mean: σ = sqrt(1/12 / n); E[u²] = 1/3 with variance 4/45.
    expect(Math.abs(s / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(s2 / n - 1 / 3)).toBeLessThan(4 * Math.sqrt(4 / 45 / n));
  });

  it('int(n) covers [0,n) evenly (each bucket within 4σ of the binomial)', () => {
    const r = new Rng(2);
    const n = 7;
    const draws = 70000;
    const h = new Array<number>(n).fill(0);
    for (let i = 0; i < draws; i++) h[r.int(n)]++;
    const p = 1 / n;
    for (const c of h) expect(Math.abs(c - draws * p)).toBeLessThan(4 * Math.sqrt(draws * p * (1 - p)));
  });

  it('rejects bad seeds, states and bounds naming the argument', () => {
    expect(() => new Rng(1.5)).toThrow(/seed/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/state/);
    expect(() => Rng.fromState([1, 2, 3])).toThrow(/state/);
    expect(() => new Rng(1).int(0)).toThrow(/n must be/);
  });
});
