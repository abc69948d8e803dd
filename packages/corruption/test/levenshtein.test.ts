import { alignment, alignmentCost, applyAlignment, levenshtein, levenshteinReference, Rng } from '../src';

function randomArray(rng: Rng, n: number, alphabet: number, offset: number): number[] {
  return Array.from({ length: n }, () => offset + rng.int(alphabet));
}

/** A copy of a with about `edits` random substitutions, insertions and deletions. */
function mutate(rng: Rng, a: number[], edits: number, alphabet: number, offset: number): number[] {
  const b = a.slice();
  for (let e = 0; e < edits; e++) {
    const op = rng.int(3);
    const pos = rng.int(b.length + 1);
    if (op === 0 && pos < b.length) b[pos] = offset + rng.int(alphabet);
    else if (op === 1) b.splice(pos, 0, offset + rng.int(alphabet));
    else if (pos < b.length) b.splice(pos, 1);
  }
  return b;
}

const LENGTHS = [0, 1, 2, 31, 32, 33, 63, 64, 65, 96, 127, 129, 500, 777];

describe('levenshtein (bit-parallel) against the DP reference', () => {
  it.each([
    ['small ids, small alphabet', 4, 0],
    ['small ids, large alphabet', 60000, 0],
    ['large ids (Map path)', 6, 100000],
    ['ids straddling 65536', 8, 65530],
  ])('%s: random and similar pairs of many lengths', (_name, alphabet, offset) => {
    const rng = new Rng(alphabet + offset);
    const bad: string[] = [];
    for (const n of LENGTHS) {
      const ms = n > 300 ? [0, 33, n + 3] : [0, 1, 32, 33, n, n + 3, Math.max(0, n - 5), 70];
      for (const m of ms) {
        const reps = n > 300 ? 1 : 2;
        for (let rep = 0; rep < reps; rep++) {
          const a = randomArray(rng, n, alphabet, offset);
          const b = randomArray(rng, m, alphabet, offset);
          const c = mutate(rng, a, 1 + rng.int(8), alphabet, offset);
          for (const [x, y] of [
            [a, b],
            [a, c],
            [c, a],
          ]) {
            const d = levenshtein(x, y);
            const ref = levenshteinReference(x, y);
            if (d !== ref) bad.push(`n=${x.length} m=${y.length}: ${d} != ${ref}`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('works on typed arrays and is symmetric', () => {
    const rng = new Rng(5);
    const a = Int32Array.from(randomArray(rng, 300, 10, 0));
    const b = Int32Array.from(mutate(rng, Array.from(a), 30, 10, 0));
    expect(levenshtein(a, b)).toBe(levenshteinReference(a, b));
    expect(levenshtein(b, a)).toBe(levenshtein(a, b));
    expect(levenshtein([], [])).toBe(0);
    expect(levenshtein([1, 2, 3], [])).toBe(3);
  });
});

describe('alignment', () => {
  it('its ops reproduce b from a with cost == distance', () => {
    const rng = new Rng(6);
    const bad: string[] = [];
    for (const n of [0, 1, 5, 33, 64, 200, 600]) {
      for (let rep = 0; rep < 4; rep++) {
        const alphabet = rep % 2 ? 5 : 200000;
        const a = randomArray(rng, n, alphabet, 0);
        const b =
          rep < 2 ? mutate(rng, a, 1 + rng.int(10), alphabet, 0) : randomArray(rng, rng.int(n + 20), alphabet, 0);
        const ops = alignment(a, b);
        const d = levenshteinReference(a, b);
        if (alignmentCost(ops) !== d) bad.push(`cost n=${n}: ${alignmentCost(ops)} != ${d}`);
        if (JSON.stringify(applyAlignment(a, ops)) !== JSON.stringify(b)) bad.push(`replay n=${n}`);
        const sub = ops.filter((o) => o.op === 'keep').every((o) => a[o.i] === b[o.j]);
        if (!sub) bad.push(`keep mismatch n=${n}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('applyAlignment rejects a script that does not fit a', () => {
    expect(() => applyAlignment([1, 2], [{ op: 'keep', i: 0, j: 0, token: 1 }])).toThrow(/ops/);
    expect(() => applyAlignment([1], [{ op: 'del', i: 0, j: 0, token: 9 }])).toThrow(/ops/);
  });
});
