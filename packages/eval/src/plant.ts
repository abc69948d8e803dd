import os from 'node:os';

import { BUG_KINDS, BugCandidate, BugKind, PLANT_RULES, applyBug, bugCandidates } from './bug-candidates';
import { parseEditRows } from './edit-formats';
import { PlantedTask, functionHead } from './edit-task';
import { Pool } from './pool';
import { programFor } from './program';
import { PlantRng } from './rng';
import { RunResult, SandboxLimits, runProgram } from './sandbox';
import { BenchTask } from './types';

export const EDIT_INSTRUCTION =
  'The following Python program has one bug: it fails its tests. Fix the bug and return the whole corrected program.';

/** The legacy edit prompt (instruction line, blank line, program) that ModelGenerator's edit mode reads. */
export function editPrompt(task: Pick<PlantedTask, 'instruction' | 'before'>): string {
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
  tasks: PlantedTask[];
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

async function plantOne(task: BenchTask, opts: PlantOptions, slot: number): Promise<PlantedTask | string> {
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
      head: functionHead(before, task.entryPoint, 'python'),
      format: 'planted',
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
  const outcome: Array<PlantedTask | string> = new Array(tasks.length);
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
export function editTasksToJsonl(tasks: readonly PlantedTask[]): string {
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

/** Parse `eval plant` output (see readEditTasks for every editing format). */
export function parseEditTasks(text: string, source = 'edit tasks'): PlantedTask[] {
  return parseEditRows(text, { source }).map((t, i) => {
    if (t.format !== 'planted')
      throw new Error(`${source}: row ${i + 1} (${t.taskId}) is ${t.format}, not an \`eval plant\` row`);
    return t as PlantedTask;
  });
}
