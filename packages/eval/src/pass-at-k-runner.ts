import { completionProgram } from './program';
import { ScoreOptions, ScoreReport, scoreSamples } from './runner';
import { BenchTask } from './types';

/** Execution-based pass@k of a generator's completions on benchmark tasks. */
export function runPassAtK(tasks: readonly BenchTask[], opts: ScoreOptions): Promise<ScoreReport> {
  if (tasks.length === 0) throw new Error('runPassAtK: tasks is empty');
  return scoreSamples(
    tasks.map((task) => ({
      taskId: task.taskId,
      language: task.language,
      mode: 'complete' as const,
      prompt: task.prompt,
      program: (text: string) => completionProgram(task, text),
    })),
    'pass@k',
    opts,
  );
}
