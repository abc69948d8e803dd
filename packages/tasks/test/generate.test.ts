import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { readBenchmark, referenceGenerator, runPassAtK, wrongGenerator } from '@seed-diffusion/eval';

import {
  FAMILIES,
  LEVELS,
  SPLITS,
  TaskRng,
  buildCard,
  describe as describeTask,
  drawPipeline,
  generateSuite,
  heldOutUnit,
  normaliseSolution,
  readTasks,
  runChecks,
  skeleton,
  solution,
  steps,
  unitHash,
  writeTasks,
  type GeneratedSuite,
} from '../src';

// one small suite shared by the tests (generation runs the sandbox: a few seconds)
let suite: GeneratedSuite;
beforeAll(async () => {
  suite = await generateSuite({ seed: 7, train: 450, test: 45, valid: 15, roundSize: 1024 });
}, 600_000);

test('the same seed gives the same suite, another seed another one', async () => {
  const again = await generateSuite({ seed: 7, train: 450, test: 45, valid: 15, roundSize: 1024 });
  expect(JSON.stringify(again.splits)).toBe(JSON.stringify(suite.splits));
  const other = await generateSuite({ seed: 8, train: 60, test: 15, valid: 15, roundSize: 256 });
  expect(JSON.stringify(other.splits.test)).not.toBe(JSON.stringify(suite.splits.test.slice(0, 15)));
}, 600_000);

test('quotas: counts per split, test and valid balanced over the levels, every family present', () => {
  expect(suite.splits.train).toHaveLength(450);
  expect(suite.splits.test).toHaveLength(45);
  expect(suite.splits.valid).toHaveLength(15);
  for (const l of LEVELS) expect(suite.splits.test.filter((t) => t.level === l)).toHaveLength(15);
  for (const f of FAMILIES) expect(suite.splits.train.some((t) => t.family === f)).toBe(true);
  const ids = SPLITS.flatMap((s) => suite.splits[s].map((t) => t.task_id));
  expect(new Set(ids).size).toBe(ids.length);
});

test('every task is in HumanEval format with >= 5 asserts, an edge case and one or two docstring examples', () => {
  for (const s of SPLITS)
    for (const t of suite.splits[s]) {
      expect(t.prompt).toContain(`def ${t.entry_point}(`);
      expect(t.prompt.trimEnd().endsWith('"""')).toBe(true);
      const examples = (t.prompt.match(/>>> /g) ?? []).length;
      expect(examples).toBeGreaterThanOrEqual(1);
      expect(examples).toBeLessThanOrEqual(2);
      expect(t.test.startsWith('def check(candidate):\n')).toBe(true);
      expect((t.test.match(/^ {4}assert candidate\(/gm) ?? []).length).toBe(t.asserts);
      expect(t.asserts).toBeGreaterThanOrEqual(5);
      // the edge case: empty list, empty string or zero
      expect(t.test).toMatch(/assert candidate\((\[\]|''|0)\) ==/);
    }
});

test('every kept reference passes its tests in the sandbox, through the pass@k runner as eval --bench runs it', async () => {
  const all = SPLITS.flatMap((s) => suite.splits[s]);
  const ok = await runChecks(
    all.map((t) => ({ code: t.prompt + t.canonical_solution, test: t.test, entry: t.entry_point })),
  );
  expect(ok.every(Boolean)).toBe(true);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tasks-'));
  try {
    const file = path.join(dir, 'test.jsonl.gz');
    writeTasks(file, suite.splits.test);
    const tasks = readBenchmark(file); // the language comes from the file: no --language needed
    expect(tasks.every((t) => t.language === 'python')).toBe(true);
    const ref = await runPassAtK(tasks, { generator: referenceGenerator(tasks), benchmark: file, samples: 1 });
    expect(ref.passAtK['1']).toBe(1);
    // a wrong solution fails: the generic wrong completion, and every task's solution swapped for another's
    const wrong = await runPassAtK(tasks, { generator: wrongGenerator(tasks), benchmark: file, samples: 1 });
    expect(wrong.passAtK['1']).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);

test("a wrong solution fails: another task's solution (same signature) fails the tests, bar rare look-alikes", async () => {
  const test = suite.splits.test;
  const jobs = test.map((t, i) => {
    // the next task of the same family with a different normalised solution, renamed to this entry point
    const other = test.find(
      (u, j) =>
        j > i &&
        u.family === t.family &&
        normaliseSolution(u.canonical_solution) !== normaliseSolution(t.canonical_solution) &&
        !u.prompt.includes('def is_'),
    );
    return other ? { code: t.prompt + other.canonical_solution, test: t.test, entry: t.entry_point } : null;
  });
  const real = jobs.filter((j): j is NonNullable<typeof j> => j !== null);
  expect(real.length).toBeGreaterThan(25);
  const ok = await runChecks(real);
  // Known weakness: 7 asserts cannot always tell a constant from its neighbour (n // 7 vs n // 6 on
  // seed 7's inputs); the survivors are bounded, not zero, until a mutant-killing filter lands.
  const survivors = ok.filter(Boolean).length;
  expect(survivors / real.length).toBeLessThanOrEqual(0.05);
}, 300_000);

test('splits are disjoint: no test or valid composition, solution or prompt occurs in train', () => {
  const train = suite.splits.train;
  const units = new Set(train.map((t) => t.held_out_unit));
  const sols = new Set(train.map((t) => normaliseSolution(t.prompt.split('def ')[0] + t.canonical_solution)));
  const prompts = new Set(train.map((t) => t.prompt));
  const skeletons = new Set(train.map((t) => skeleton(t.canonical_solution)));
  for (const s of ['valid', 'test'] as const)
    for (const t of suite.splits[s]) {
      expect(t.held_out_unit).not.toBeNull();
      expect(units.has(t.held_out_unit)).toBe(false);
      expect(sols.has(normaliseSolution(t.prompt.split('def ')[0] + t.canonical_solution))).toBe(false);
      expect(prompts.has(t.prompt)).toBe(false);
      // near duplicates: above level 1 not even the skeleton (constants abstracted) is shared
      if (t.level > 1) expect(skeletons.has(skeleton(t.canonical_solution))).toBe(false);
    }
  // level 1 holds out constants, not primitives: each level-1 test task's primitive is trained at
  // level 1 with other constants (its skeleton occurs in train)
  for (const t of suite.splits.test.filter((x) => x.level === 1))
    expect([t.canonical_solution, skeletons.has(skeleton(t.canonical_solution))]).toEqual([t.canonical_solution, true]);
  // and test and valid do not share units either
  const testUnits = new Set(suite.splits.test.map((t) => t.held_out_unit));
  expect(suite.splits.valid.some((t) => testUnits.has(t.held_out_unit))).toBe(false);
  // every primitive a test task uses is trained on
  const trained = new Set(train.flatMap((t) => t.primitives));
  for (const t of suite.splits.test) for (const p of t.primitives) expect(trained.has(p)).toBe(true);
});

test("the card's counts and checks equal the files", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tasks-'));
  try {
    for (const s of SPLITS) writeTasks(path.join(dir, `${s}.jsonl.gz`), suite.splits[s]);
    const back = Object.fromEntries(SPLITS.map((s) => [s, readTasks(path.join(dir, `${s}.jsonl.gz`))])) as Record<
      (typeof SPLITS)[number],
      ReturnType<typeof readTasks>
    >;
    const card = buildCard(back, { seed: 7 });
    for (const s of SPLITS) {
      expect(card.counts[s].total).toBe(back[s].length);
      for (const l of LEVELS)
        expect(card.counts[s].byLevel[String(l)] ?? 0).toBe(back[s].filter((t) => t.level === l).length);
      const fam = Object.values(card.counts[s].byFamily).reduce((a, b) => a + b, 0);
      expect(fam).toBe(back[s].length);
    }
    expect(card.checks.test.sharedCompositions).toBe(0);
    expect(card.checks.test.sharedSolutions).toBe(0);
    expect(card.checks.test.sharedPrompts).toBe(0);
    expect(card.checks.duplicatePromptsWithinSplits).toBe(0);
    const cov = Object.values(card.coverage).reduce((a, c) => a + c.test, 0);
    expect(cov).toBe(back.test.reduce((a, t) => a + t.primitives.length, 0));
    expect(readFileSync(path.join(dir, 'test.jsonl.gz')).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the grammar: every family has every level, level = steps, and wording varies for the same composition', () => {
  const rng = new TaskRng(1);
  for (const f of FAMILIES)
    for (const l of LEVELS) {
      const p = drawPipeline(f, l, rng);
      expect(steps(p)).toBe(l);
      expect(solution(p)).toMatch(/^ {4}\S/);
    }
  const p = drawPipeline('ints', 3, new TaskRng(5));
  const wordings = new Set(Array.from({ length: 40 }, (_, i) => describeTask(p, new TaskRng(100 + i))));
  expect(wordings.size).toBeGreaterThanOrEqual(4);
  // the split hash spreads units that differ only in their last character (the constant)
  const hs = Array.from({ length: 9 }, (_, k) => unitHash(`1:scalar:return n + ${k + 1}`));
  expect(Math.max(...hs) - Math.min(...hs)).toBeGreaterThan(0.3);
  // level-1 compositions without a constant are train-only; with one, they get a unit
  const sum = { family: 'ints' as const, level: 1 as const, reducer: 'sum' as const };
  expect(heldOutUnit(sum)).toBeNull();
});

test('bad input gets a clear error', async () => {
  await expect(generateSuite({ seed: 1.5, train: 1, test: 1 })).rejects.toThrow(/seed must be an integer/);
  await expect(generateSuite({ seed: 1, train: -1, test: 1 })).rejects.toThrow(/train must be an integer/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tasks-'));
  try {
    const f = path.join(dir, 'bad.jsonl');
    require('node:fs').writeFileSync(f, '{"task_id": "x"}\n');
    expect(() => readTasks(f)).toThrow(/bad.jsonl:1: field "prompt" must be a string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
