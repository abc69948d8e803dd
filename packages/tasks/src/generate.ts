// The task suite: draw compositions, route each to a split by its held-out unit, write the prompt and
// tests (outputs from the reference run in the sandbox), keep a task only when its reference passes its
// own tests there, and fill each split's per-level quota.
//
// Held-out units: at levels 2 and 3 the composition without constants (family, reducer, condition,
// transformations), so a test task's combination of primitives never occurs in train; at level 1 (one
// primitive) the composition with its constant (`above 7` in test, `above 3` in train), since a single
// primitive cannot be new and still be learnable. Level-1 compositions without a constant are train-only.
import { FAMILIES, type Family } from './primitives';
import {
  LEVELS,
  type Level,
  type Pipeline,
  compositionId,
  compositionKey,
  describe,
  drawPipeline,
  entryName,
  helpers,
  params,
  primitivesOf,
  solution,
} from './pipeline';
import { drawInputs } from './inputs';
import { type BatchOptions, runChecks, runOutputs } from './oracle';
import { TaskRng, unitHash } from './rng';

export type Split = 'train' | 'valid' | 'test';
export const SPLITS: readonly Split[] = ['train', 'valid', 'test'];

/** One task: HumanEval's fields plus what the generator knows about it. */
export interface Task {
  task_id: string;
  language: 'python';
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
  level: Level;
  family: Family;
  /** The composition without constants (the held-out unit at levels 2-3). */
  composition: string;
  /** The composition with constants (the held-out unit at level 1). */
  composition_key: string;
  /** What the split was decided by (see heldOutUnit); null: train-only. */
  held_out_unit: string | null;
  primitives: string[];
  asserts: number;
}

export interface GenerateOptions {
  seed: number;
  train: number;
  test: number;
  /** Validation tasks (default: as many as test). */
  valid?: number;
  /** Fraction of held-out units routed to test (default 0.2) and to validation (default 0.1). */
  testFraction?: number;
  validFraction?: number;
  /** Share of each level in train (default 0.3 / 0.35 / 0.35); test and valid are balanced. */
  trainLevelMix?: [number, number, number];
  /** Candidates drawn per round (default 4096). */
  roundSize?: number;
  sandbox?: Omit<BatchOptions, 'onProgress'>;
  onProgress?: (kept: Record<Split, number>, wanted: Record<Split, number>, stats: GenerateStats) => void;
}

export interface GenerateStats {
  drawn: number;
  routedFull: number;
  duplicates: number;
  degenerate: number;
  referenceFailed: number;
  verified: number;
  rounds: number;
  seconds: number;
}

export interface GeneratedSuite {
  splits: Record<Split, Task[]>;
  stats: GenerateStats;
  options: { seed: number; testFraction: number; validFraction: number; trainLevelMix: [number, number, number] };
}

/**
 * The held-out unit of a pipeline. Levels 2-3: its solution's skeleton (whitespace collapsed, numbers,
 * quoted literals and helper names abstracted), so that compositions whose code differs only in a
 * constant (even = divisible by 2, positive = above 0, doubled = times 2) count as one. Level 1: the
 * solution itself with its constants (and the helper it calls); null where that has no constant
 * (sum(xs)): such tasks are train-only, since one primitive without a constant cannot be new.
 */
export function heldOutUnit(p: Pipeline): string | null {
  const code = helpers(p) + solution(p);
  if (p.level === 1) return /\(/.test(compositionKey(p)) ? `${p.family}:${normaliseSolution(code)}` : null;
  return `${p.family}:${skeleton(solution(p))}`;
}

/** Which split a pipeline belongs to: a function of the seed and its held-out unit only. */
export function splitOf(p: Pipeline, seed: number, testFraction = 0.2, validFraction = 0.1): Split {
  const unit = heldOutUnit(p);
  if (unit === null) return 'train';
  const h = unitHash(`${seed}:${unit}`);
  return h < testFraction ? 'test' : h < testFraction + validFraction ? 'valid' : 'train';
}

/** Solution with numbers, non-empty quoted literals and helper names abstracted: the near-duplicate key. */
export function skeleton(code: string): string {
  return normaliseSolution(code)
    .replace(/'[^'\n]*'/g, (q) => (q === "''" ? q : "'S'"))
    .replace(/\bis_[a-z_]+\(/g, 'is_H(')
    .replace(/\b\d+\b/g, 'K');
}

function quotas(total: number, mix: readonly number[]): number[] {
  const q = mix.map((m) => Math.floor(total * m));
  let rest = total - q.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % q.length, rest--) q[i]++;
  return q;
}

interface Candidate {
  p: Pipeline;
  split: Split;
  name: string;
  prompt: (examples: string) => string;
  body: string;
  inputs: string[];
  rng: TaskRng;
}

/** Choose asserted inputs: the edge case, then distinct outputs first; null when too weak a test. */
function chooseAsserts(inputs: string[], outs: Array<string | null>): number[] | null {
  const ok = inputs.map((_, i) => i).filter((i) => outs[i] !== null);
  if (ok.length < 5 || ok[0] !== 0) return null; // the edge case must be there and not raise
  const chosen = [0];
  const seen = new Set([outs[0]]);
  for (const i of ok.slice(1)) {
    if (chosen.length >= 6 || seen.has(outs[i])) continue;
    chosen.push(i);
    seen.add(outs[i]);
  }
  for (const i of ok.slice(1)) if (chosen.length < 7 && !chosen.includes(i)) chosen.push(i);
  const distinct = new Set(chosen.map((i) => outs[i])).size;
  const bools = chosen.every((i) => outs[i] === 'True' || outs[i] === 'False');
  if (chosen.length < 5 || distinct < (bools ? 2 : 3)) return null;
  return chosen.sort((a, b) => a - b);
}

/** Collapses whitespace: the "normalised solution" of the dedup checks. */
export function normaliseSolution(code: string): string {
  return code.replace(/\s+/g, ' ').trim();
}

export async function generateSuite(o: GenerateOptions): Promise<GeneratedSuite> {
  const t0 = Date.now();
  if (!Number.isInteger(o.seed)) throw new Error(`generateSuite: seed must be an integer, got ${o.seed}`);
  for (const [k, v] of [
    ['train', o.train],
    ['test', o.test],
  ] as const)
    if (!Number.isInteger(v) || v < 0) throw new Error(`generateSuite: ${k} must be an integer >= 0, got ${v}`);
  const testFraction = o.testFraction ?? 0.2;
  const validFraction = o.validFraction ?? 0.1;
  const mix = o.trainLevelMix ?? [0.3, 0.35, 0.35];
  const wanted: Record<Split, number> = { train: o.train, valid: o.valid ?? o.test, test: o.test };
  const want: Record<Split, number[]> = {
    train: quotas(wanted.train, mix),
    valid: quotas(wanted.valid, [1 / 3, 1 / 3, 1 / 3]),
    test: quotas(wanted.test, [1 / 3, 1 / 3, 1 / 3]),
  };
  const kept: Record<Split, Task[][]> = { train: [[], [], []], valid: [[], [], []], test: [[], [], []] };
  const prompts = new Set<string>();
  const stats: GenerateStats = {
    drawn: 0,
    routedFull: 0,
    duplicates: 0,
    degenerate: 0,
    referenceFailed: 0,
    verified: 0,
    rounds: 0,
    seconds: 0,
  };
  const rng = new TaskRng(`tasks:${o.seed}`);
  const missing = (s: Split, l: Level) => want[s][l - 1] - kept[s][l - 1].length;
  const anyMissing = () => SPLITS.some((s) => LEVELS.some((l) => missing(s, l) > 0));
  const roundSize = o.roundSize ?? 4096;
  let serial = 0;

  while (anyMissing()) {
    if (++stats.rounds > 400) throw new Error('generateSuite: quotas not met after 400 rounds (grammar too small?)');
    // draw a round of candidates for the quotas still open (pending counts avoid overshooting much)
    const pending: Record<Split, number[]> = { train: [0, 0, 0], valid: [0, 0, 0], test: [0, 0, 0] };
    const cands: Candidate[] = [];
    const open = LEVELS.filter((l) => SPLITS.some((s) => missing(s, l) > 0));
    for (let tries = 0; cands.length < roundSize && tries < roundSize * 20; tries++) {
      const level = rng.pick(open);
      const family = rng.pick(FAMILIES);
      const p = drawPipeline(family, level, rng);
      stats.drawn++;
      const split = splitOf(p, o.seed, testFraction, validFraction);
      // 1.3x: some candidates fail their checks or turn out duplicates
      if (pending[split][level - 1] >= Math.ceil(missing(split, level) * 1.3) + 4) {
        stats.routedFull++;
        continue;
      }
      pending[split][level - 1]++;
      const trng = new TaskRng(`task:${o.seed}:${serial++}`);
      const name = entryName(p);
      const sentence = describe(p, trng);
      const head = `${helpers(p)}def ${name}(${params(p)}):\n`;
      cands.push({
        p,
        split,
        name,
        body: solution(p),
        inputs: drawInputs(p.family, trng),
        rng: trng,
        prompt: (examples) => `${head}    """${sentence}\n\n${examples}    """\n`,
      });
    }
    const code = (c: Candidate) => `${helpers(c.p)}def ${c.name}(${params(c.p)}):\n${c.body}`;
    const outs = await runOutputs(
      cands.map((c) => ({ code: code(c), entry: c.name, inputs: c.inputs })),
      o.sandbox,
    );
    const built: Array<{ c: Candidate; task: Task }> = [];
    cands.forEach((c, i) => {
      const row = outs[i];
      const pick = row ? chooseAsserts(c.inputs, row) : null;
      if (!row || !pick) {
        stats.degenerate++;
        return;
      }
      const shown = pick.filter((j) => j !== 0 && row[j] !== row[0]);
      const ex = (shown.length > 0 ? shown : pick).slice(0, c.rng.chance(0.5) ? 1 : 2);
      const lead = c.rng.chance(0.3) ? '    For example:\n' : '';
      const examples = lead + ex.map((j) => `    >>> ${c.name}(${c.inputs[j]})\n    ${row[j]}\n`).join('');
      const prompt = c.prompt(examples);
      if (prompts.has(prompt)) {
        stats.duplicates++;
        return;
      }
      prompts.add(prompt);
      const test =
        `def check(candidate):\n` + pick.map((j) => `    assert candidate(${c.inputs[j]}) == ${row[j]}\n`).join('');
      built.push({
        c,
        task: {
          task_id: '',
          language: 'python',
          prompt,
          canonical_solution: c.body,
          test,
          entry_point: c.name,
          level: c.p.level,
          family: c.p.family,
          composition: compositionId(c.p),
          composition_key: compositionKey(c.p),
          held_out_unit: heldOutUnit(c.p),
          primitives: primitivesOf(c.p),
          asserts: pick.length,
        },
      });
    });
    // the kept reference must pass its own tests, run in the sandbox exactly as pass@k will run it
    const passed = await runChecks(
      built.map(({ task }) => ({
        code: task.prompt + task.canonical_solution,
        test: task.test,
        entry: task.entry_point,
      })),
      o.sandbox,
    );
    stats.verified += built.length;
    built.forEach(({ c, task }, i) => {
      if (!passed[i]) {
        stats.referenceFailed++;
        return;
      }
      if (missing(c.split, task.level) > 0) kept[c.split][task.level - 1].push(task);
    });
    stats.seconds = (Date.now() - t0) / 1000;
    const counts = Object.fromEntries(SPLITS.map((s) => [s, kept[s].flat().length])) as Record<Split, number>;
    o.onProgress?.(counts, wanted, stats);
  }
  const splits = {} as Record<Split, Task[]>;
  for (const s of SPLITS) {
    // interleave levels deterministically so --limit N takes a mix, then number the tasks
    const levels = kept[s];
    const all: Task[] = [];
    const total = levels.reduce((a, l) => a + l.length, 0);
    for (let i = 0; all.length < total; i++) for (const l of levels) if (i < l.length) all.push(l[i]);
    all.forEach((t, i) => (t.task_id = `Tasks/${s}/${i}`));
    splits[s] = all;
  }
  stats.seconds = (Date.now() - t0) / 1000;
  return { splits, stats, options: { seed: o.seed, testFraction, validFraction, trainLevelMix: mix } };
}
