import { TableGenerator } from './generator';
import { EditTask, editPrompt } from './plant';
import { programFor } from './program';
import { ScoreOptions, ScoreReport, scoreSamples } from './runner';

/** Score a generator on editing tasks: its answer is a whole program, run against the task's tests. */
export function runEditing(tasks: readonly EditTask[], opts: ScoreOptions): Promise<ScoreReport> {
  if (tasks.length === 0) throw new Error('runEditing: tasks is empty');
  return scoreSamples(
    tasks.map((task) => ({
      taskId: task.taskId,
      language: task.language,
      mode: 'edit' as const,
      prompt: editPrompt(task),
      program: (text: string) => programFor(task.language, text, task.test, task.entryPoint),
    })),
    'edit',
    opts,
  );
}

/** Answers every editing task with its fix (the reference program). */
export function referenceEditGenerator(tasks: readonly EditTask[]): TableGenerator {
  return new TableGenerator('references', new Map(tasks.map((t) => [t.taskId, t.after])), { source: 'after' });
}

/** Answers every editing task with the broken program unchanged: must score 0. */
export function unchangedEditGenerator(tasks: readonly EditTask[]): TableGenerator {
  return new TableGenerator('unchanged', new Map(tasks.map((t) => [t.taskId, t.before])), { source: 'before' });
}
