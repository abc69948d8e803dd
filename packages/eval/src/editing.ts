import { EditMode, editPromptText, editRequest } from './edit-prompt';
import { EditTask } from './edit-task';
import { TableGenerator } from './generator';
import { programFor } from './program';
import { ScoreOptions, ScoreReport, scoreSamples } from './runner';

/**
 * Score a generator on editing tasks: its answer is a whole program (regenerate mode: assembled from
 * the function it wrote), run against the task's tests. Pass means the tests ran to their end.
 */
export async function runEditing(
  tasks: readonly EditTask[],
  opts: ScoreOptions & { mode?: EditMode },
): Promise<ScoreReport> {
  if (tasks.length === 0) throw new Error('runEditing: tasks is empty');
  const mode = opts.mode ?? 'in-place';
  const report = await scoreSamples(
    tasks.map((task) => {
      const edit = editRequest(task, mode);
      return {
        taskId: task.taskId,
        language: task.language,
        mode: 'edit' as const,
        prompt: editPromptText(edit),
        edit,
        program: (text: string) => programFor(task.language, text, task.test, task.entryPoint),
      };
    }),
    'edit',
    opts,
  );
  return { ...report, editMode: mode };
}

/** Answers every editing task with its reference fix: must score 100 %. */
export function referenceEditGenerator(tasks: readonly EditTask[]): TableGenerator {
  const table = new Map<string, string>();
  for (const t of tasks) {
    if (t.after === null) throw new Error(`referenceEditGenerator: task ${t.taskId} has no reference fix`);
    table.set(t.taskId, t.after);
  }
  return new TableGenerator('references', table, { source: 'after' });
}

/** Answers every editing task with the program unchanged: must score 0 on bug-fixing tasks. */
export function unchangedEditGenerator(tasks: readonly EditTask[]): TableGenerator {
  return new TableGenerator('unchanged', new Map(tasks.map((t) => [t.taskId, t.before])), { source: 'before' });
}
