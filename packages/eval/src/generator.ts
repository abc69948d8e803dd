import type { EditRequest } from './edit-prompt';
import { BenchTask, Language } from './types';

/** What a runner tells a generator about the sample it wants. */
export interface GenerateOptions {
  taskId: string;
  language: Language;
  /** 'complete': continue the prompt; 'edit': return the whole corrected program. */
  mode: 'complete' | 'edit';
  /** Index of this sample among the task's samples (0-based). */
  sample: number;
  /** Seed for this sample, derived from the run seed, the task and the sample index. */
  seed: number;
  /** Editing tasks: the program, instruction and mode, apart from the prompt text. */
  edit?: EditRequest;
}

export interface Generation {
  /** The answer: a completion, or (editing) the whole program to test. */
  text: string;
  /** What the model itself wrote, when `text` was assembled from it (regenerate: the function body). */
  raw?: string;
  /** Tokens produced (0 when the generator is not a model). */
  tokens: number;
  /** Model forward passes used (0 when the generator is not a model). */
  forwards: number;
  seconds: number;
}

/**
 * Where samples come from. The diffusion sampler implements this later (eval --model); here the
 * reference and deliberately-wrong generators do. `settings` is copied into every result next to
 * the scores (sampler name, steps, block size, temperature, ...).
 */
export interface Generator {
  readonly name: string;
  readonly settings: Record<string, unknown>;
  generate(prompt: string, opts: GenerateOptions): Promise<Generation>;
}

/** A generator that answers from a fixed table keyed by task id (no model involved). */
export class TableGenerator implements Generator {
  constructor(
    readonly name: string,
    private table: ReadonlyMap<string, string>,
    readonly settings: Record<string, unknown> = {},
  ) {}
  async generate(_prompt: string, opts: GenerateOptions): Promise<Generation> {
    const t0 = process.hrtime.bigint();
    const text = this.table.get(opts.taskId);
    if (text === undefined) throw new Error(`${this.name}: no answer for task ${opts.taskId}`);
    return { text, tokens: 0, forwards: 0, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  }
}

/** Completions that are the benchmark's own canonical solutions (the references mode). */
export function referenceGenerator(tasks: readonly BenchTask[]): TableGenerator {
  const table = new Map<string, string>();
  for (const t of tasks) {
    if (t.canonicalSolution === null)
      throw new Error(`referenceGenerator: task ${t.taskId} has no canonical_solution (a tests-only benchmark)`);
    table.set(t.taskId, t.canonicalSolution);
  }
  return new TableGenerator('references', table, { source: 'canonical_solution' });
}

/** A completion that is wrong for every task: it raises instead of answering. */
export function wrongCompletion(language: Language): string {
  return language === 'python'
    ? "    raise RuntimeError('deliberately wrong')\n"
    : "  throw new Error('deliberately wrong');\n}\n";
}

/** Completions that always fail: a control that the harness does not pass everything. */
export function wrongGenerator(tasks: readonly BenchTask[]): TableGenerator {
  return new TableGenerator('wrong', new Map(tasks.map((t) => [t.taskId, wrongCompletion(t.language)])), {
    source: 'deliberately wrong',
  });
}
