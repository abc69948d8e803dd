import os from 'node:os';

import { BUG_KINDS, BugCandidate, BugKind, PLANT_RULES, applyBug, bugCandidates } from './bug-candidates';
import { Pool } from './pool';
import { programFor } from './program';
import { PlantRng } from './rng';
import { RunResult, SandboxLimits, runProgram } from './sandbox';
import { BenchTask } from './types';

/** A code-editing task: a program with one planted bug, its fix, and the tests that tell them apart. */
export interface EditTask {
  taskId: string;
  sourceTaskId: string;
  language: 'python';
  entryPoint: string | null;
  instruction: string;
  /** The broken program (prompt + solution with the bug). */
  before: string;
  /** The fix: the benchmark's reference program (prompt + canonical solution). */
  after: string;
  test: string;
  bug: { kind: BugKind; rule: string; line: number; offset: number; from: string; to: string };
  plant: {
    seed: number;
    rules: string;
    rng: string;
    attempt: number;
    candidates: number;
    verified: { before: string; after: string };
  };
}

export const EDIT_INSTRUCTION =
  'The following Python program has one bug: it fails its tests. Fix the bug and return the whole corrected program.';

/** The text a model is given for an editing task. */
export function editPrompt(task: EditTask): string {
  return `${task.instruction}\n\n${task.before}`;
}

export interface PlantOptions {
  seed: number;
  /** Variants tried per task before giving up (each is one sandboxed run). */
  maxAttempts?: number;
  limits?: Partial<SandboxLimits>;
  concurrency?: number;
  onProgress?: (done: number, total: number, planted: number) => void;
}

export interface PlantResult {
  tasks: EditTask[];
  skipped: Array<{ taskId: string; reason: string }>;
}

const SYNTAX_ERROR = /\b(SyntaxError|IndentationError|TabError)\b/;

/**
 * Choose the next candidate: a kind uniformly among the kinds with candidates left, then a candidate
 * of that kind uniformly (so frequent kinds such as wrong_variable do not crowd out the rest).
 */
function drawCandidate(rng: PlantRng, byKind: Map<BugKind, BugCandidate[]>): BugCandidate | undefined {
  const kinds = BUG_KINDS.filter((k) => (byKind.get(k)?.length ?? 0) > 0);
  if (kinds.length === 0) return undefined;
  const list = byKind.get(kinds[rng.int(kinds.length)])!;
  return list.splice(rng.int(list.length), 1)[0];
}

async function plantOne(task: BenchTask, opts: PlantOptions, slot: number): Promise<EditTask | string> {
  if (task.language !== 'python') return `language ${task.language} (planting is for Python)`;
  if (task.canonicalSolution === null) return 'no canonical_solution';
  const limits = opts.limits;
  const run = (code: string): Promise<RunResult> =>
    runProgram(programFor('python', code, task.test, task.entryPoint), { limits, slot });
  const after = task.prompt + task.canonicalSolution;
  const ref = await run(after);
  if (ref.status !== 'passed') return `reference solution does not pass (${ref.status})`;
  const all = bugCandidates(task.prompt, task.canonicalSolution);
  if (all.length === 0) return 'no place to plant a bug';
  const byKind = new Map<BugKind, BugCandidate[]>();
  for (const c of all) byKind.set(c.kind, [...(byKind.get(c.kind) ?? []), c]);
  const rng = PlantRng.forTask(opts.seed, task.taskId);
  const maxAttempts = opts.maxAttempts ?? 6;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const c = drawCandidate(rng, byKind);
    if (!c) break;
    const before = task.prompt + applyBug(task.canonicalSolution, c);
    const r = await run(before);
    if (r.status === 'passed' || SYNTAX_ERROR.test(r.stderr)) continue;
    return {
      taskId: `${task.taskId}/plant-${opts.seed}`,
      sourceTaskId: task.taskId,
      language: 'python',
      entryPoint: task.entryPoint,
      instruction: EDIT_INSTRUCTION,
      before,
      after,
      test: task.test,
      bug: {
        kind: c.kind,
        rule: c.rule,
        line: c.line,
        offset: c.offset,
        from: task.canonicalSolution.slice(c.offset, c.offset + c.length),
        to: c.replacement,
      },
      plant: {
        seed: opts.seed,
        rules: PLANT_RULES,
        rng: 'splitmix32(fnv1a("<seed>:<task_id>"))',
        attempt,
        candidates: all.length,
        verified: { before: r.status, after: ref.status },
      },
    };
  }
  return `no variant failed its tests in ${maxAttempts} attempts`;
}

/**
 * Plant one verified bug per task: the variant must fail the tests (not by a syntax error) and the
 * reference must pass. Reproducible: the same seed, tasks and rules give the same variants.
 */
export async function plantBugs(tasks: readonly BenchTask[], opts: PlantOptions): Promise<PlantResult> {
  if (!Number.isInteger(opts.seed)) throw new Error(`plantBugs: seed must be an integer, got ${opts.seed}`);
  const pool = new Pool(opts.concurrency ?? Math.max(1, os.cpus().length));
  const outcome: Array<EditTask | string> = new Array(tasks.length);
  let done = 0;
  let planted = 0;
  await Promise.all(
    tasks.map((task, i) =>
      pool.run(async (slot) => {
        outcome[i] = await plantOne(task, opts, slot);
        done++;
        if (typeof outcome[i] !== 'string') planted++;
        opts.onProgress?.(done, tasks.length, planted);
      }),
    ),
  );
  const result: PlantResult = { tasks: [], skipped: [] };
  outcome.forEach((o, i) =>
    typeof o === 'string' ? result.skipped.push({ taskId: tasks[i].taskId, reason: o }) : result.tasks.push(o),
  );
  return result;
}

/** Editing tasks as jsonl rows (snake_case, like the benchmarks). */
export function editTasksToJsonl(tasks: readonly EditTask[]): string {
  return tasks
    .map((t) =>
      JSON.stringify({
        task_id: t.taskId,
        source_task_id: t.sourceTaskId,
        language: t.language,
        entry_point: t.entryPoint,
        instruction: t.instruction,
        before: t.before,
        after: t.after,
        test: t.test,
        bug: t.bug,
        plant: t.plant,
      }),
    )
    .map((l) => `${l}\n`)
    .join('');
}

export function parseEditTasks(text: string, source = 'edit tasks'): EditTask[] {
  const out: EditTask[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${source}:${i + 1}`;
    const r = JSON.parse(line) as Record<string, unknown>;
    for (const f of ['task_id', 'source_task_id', 'before', 'after', 'test', 'instruction'])
      if (typeof r[f] !== 'string') throw new Error(`${where}: field "${f}" must be a string`);
    if (r.language !== 'python')
      throw new Error(`${where}: field "language" must be "python", got ${JSON.stringify(r.language)}`);
    out.push({
      taskId: r.task_id as string,
      sourceTaskId: r.source_task_id as string,
      language: 'python',
      entryPoint: typeof r.entry_point === 'string' ? r.entry_point : null,
      instruction: r.instruction as string,
      before: r.before as string,
      after: r.after as string,
      test: r.test as string,
      bug: r.bug as EditTask['bug'],
      plant: r.plant as EditTask['plant'],
    });
  });
  if (out.length === 0) throw new Error(`${source}: no editing tasks found`);
  return out;
}
