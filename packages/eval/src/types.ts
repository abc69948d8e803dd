/** Languages whose programs the sandbox knows how to run. */
export type Language = 'python' | 'javascript' | 'typescript';

export const LANGUAGES: readonly Language[] = ['python', 'javascript', 'typescript'];

/**
 * One benchmark problem in the HumanEval jsonl layout. `canonicalSolution` is null for benchmarks that
 * ship tests only (multilingual HumanEval JS/TS); `entryPoint` is null where the test calls its own
 * checker (HumanEval-X).
 */
export interface BenchTask {
  taskId: string;
  language: Language;
  prompt: string;
  canonicalSolution: string | null;
  test: string;
  entryPoint: string | null;
}
