import {
  CommitPolicy,
  fixedSchedule,
  rankActive,
  selectEdits,
  selectFactor,
  selectThreshold,
  selectTopK,
} from '../src/policies';

// A plain reference of the factor rule: try every n and keep the largest that satisfies it.
function factorReference(conf: number[], active: boolean[], f: number): number[] {
  const ranked = conf
    .map((c, i) => [c, i] as const)
    .filter(([, i]) => active[i])
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  let best = 0;
  for (let n = 1; n <= ranked.length; n++) if ((n + 1) * (1 - ranked[n - 1][0]) < f) best = n;
  return ranked.slice(0, Math.max(1, best)).map(([, i]) => i);
}

function randomCase(seed: number, n: number) {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const conf = Array.from({ length: n }, () => rnd());
  const active = Array.from({ length: n }, () => rnd() < 0.7);
  return { conf, active };
}

describe('fixed schedule (LLaDA)', () => {
  test('splits evenly with the remainder on the first steps', () => {
    expect(fixedSchedule(10, 4)).toEqual([3, 3, 2, 2]);
    expect(fixedSchedule(8, 8)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(fixedSchedule(3, 5)).toEqual([1, 1, 1, 0, 0]);
    for (const [m, s] of [
      [37, 5],
      [32, 32],
      [1, 1],
      [100, 7],
    ]) {
      const k = fixedSchedule(m, s);
      expect(k.reduce((a, b) => a + b, 0)).toBe(m);
      expect(Math.max(...k) - Math.min(...k)).toBeLessThanOrEqual(1);
    }
  });
  test('rejects bad arguments by name', () => {
    expect(() => fixedSchedule(4, 0)).toThrow(/steps/);
    expect(() => fixedSchedule(-1, 2)).toThrow(/masked/);
  });
  test('the policy commits k_t per step and clamps steps to the masks', () => {
    const p = new CommitPolicy({ policy: 'fixed', threshold: 0.9, factor: 1, steps: 3 });
    const conf = [0.1, 0.9, 0.5, 0.7, 0.3, 0.2, 0.8];
    const active = conf.map(() => true);
    p.begin(7);
    expect(p.select(conf, active, 0)).toEqual([1, 6, 3]); // 7 over 3 steps: 3, 2, 2
    expect(p.select(conf, active, 1)).toHaveLength(2);
    const q = new CommitPolicy({ policy: 'fixed', threshold: 0.9, factor: 1, steps: 50 });
    q.begin(2);
    expect(q.select([0.2, 0.4], [true, true], 0)).toEqual([1]);
    expect(q.select([0.2, 0.4], [true, false], 1)).toEqual([0]);
  });
});

describe('threshold rule (Fast-dLLM)', () => {
  test('commits every active position >= tau', () => {
    const conf = [0.95, 0.2, 0.91, 0.9, 0.99, 0.89];
    const active = [true, true, true, true, false, true];
    expect(selectThreshold(conf, active, 0.9).sort()).toEqual([0, 2, 3]);
  });
  test('always commits at least the most confident one', () => {
    expect(selectThreshold([0.3, 0.6, 0.5], [true, true, true], 0.9)).toEqual([1]);
    expect(selectThreshold([0.3, 0.6, 0.5], [true, false, true], 0.9)).toEqual([2]);
    expect(selectThreshold([0.3, 0.6], [false, false], 0.9)).toEqual([]);
  });
  test('matches a filter reference on random confidences', () => {
    for (let seed = 1; seed < 40; seed++) {
      const { conf, active } = randomCase(seed, 1 + (seed % 33));
      const tau = 0.5 + (seed % 5) / 10;
      const got = new Set(selectThreshold(conf, active, tau));
      const hi = conf.map((c, i) => i).filter((i) => active[i] && conf[i] >= tau);
      const expected = new Set(hi);
      const act = conf.map((c, i) => i).filter((i) => active[i]);
      if (act.length > 0 && hi.length === 0) expected.add(act.reduce((a, b) => (conf[b] > conf[a] ? b : a)));
      expect(got).toEqual(expected);
    }
  });
});

describe('factor rule (Fast-dLLM Alg. 1)', () => {
  test('largest n with (n+1)(1 - c_(n)) < f', () => {
    // sorted: 0.99 (2·0.01 < 1), 0.8 (3·0.2 = 0.6 < 1), 0.7 (4·0.3 = 1.2 >= 1) -> n = 2
    expect(selectFactor([0.7, 0.99, 0.8, 0.1], [true, true, true, true], 1)).toEqual([1, 2]);
    // f = 2: 0.7 passes (1.2 < 2), 0.1 fails (5·0.9) -> n = 3
    expect(selectFactor([0.7, 0.99, 0.8, 0.1], [true, true, true, true], 2)).toEqual([1, 2, 0]);
  });
  test('at least one, and only active positions', () => {
    expect(selectFactor([0.2, 0.3], [true, true], 1)).toEqual([1]);
    expect(selectFactor([0.99, 0.3], [false, true], 1)).toEqual([1]);
  });
  test('matches the try-every-n reference on random confidences', () => {
    for (let seed = 1; seed < 60; seed++) {
      const { conf, active } = randomCase(seed * 7, 1 + (seed % 40));
      if (!active.some(Boolean)) continue;
      const f = [0.5, 1, 2, 4][seed % 4];
      expect(selectFactor(conf, active, f)).toEqual(factorReference(conf, active, f));
    }
  });
});

describe('ranking and edits', () => {
  test('ties go to the lower position', () => {
    expect(rankActive([0.5, 0.5, 0.9, 0.5], [1, 1, 1, 1])).toEqual([2, 0, 1, 3]);
    expect(selectTopK([0.5, 0.5, 0.5], [1, 1, 1], 2)).toEqual([0, 1]);
    expect(() => rankActive([1, 2], [1])).toThrow(/active/);
  });
  test('edits only editable positions whose token changed with probability above the threshold', () => {
    const tok = [5, 6, 7, 8, 9];
    const prob = [0.99, 0.95, 0.5, 0.97, 0.99];
    const cur = [5, 1, 1, 1, 1];
    const editable = [1, 1, 1, 0, 1];
    expect(selectEdits(tok, prob, cur, editable, 0.9)).toEqual([1, 4]); // 0 unchanged, 2 unsure, 3 not editable
    expect(selectEdits(tok, prob, cur, editable, 0.99)).toEqual([]); // strictly above
  });
});
