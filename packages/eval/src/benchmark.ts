import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

import { BenchTask, LANGUAGES, Language } from './types';

/** Language named by a row's `language` field or, failing that, by its task_id prefix. */
function languageOf(row: Record<string, unknown>, fallback: Language | undefined, where: string): Language {
  const field = typeof row.language === 'string' ? row.language.toLowerCase() : undefined;
  if (field === 'python' || field === 'javascript' || field === 'typescript') return field;
  if (field === 'js') return 'javascript';
  if (field === 'ts') return 'typescript';
  if (fallback) return fallback;
  const id = String(row.task_id);
  if (/^(HumanEval|Python|MBPP)\//.test(id)) return 'python';
  if (/^(JavaScript|MBJSP|HumanEval_javascript)\//.test(id)) return 'javascript';
  if (/^(TypeScript|MBTSP|HumanEval_typescript)\//.test(id)) return 'typescript';
  throw new Error(
    `${where}: cannot tell the language of task_id "${id}": pass a language (one of ${LANGUAGES.join(', ')})`,
  );
}

function stringField(row: Record<string, unknown>, name: string, where: string): string {
  const v = row[name];
  if (typeof v !== 'string') throw new Error(`${where}: field "${name}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Parse HumanEval-format jsonl text (one object per line; blank lines ignored). */
export function parseBenchmark(text: string, opts: { source?: string; language?: Language } = {}): BenchTask[] {
  const source = opts.source ?? 'benchmark';
  const tasks: BenchTask[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const where = `${source}:${i + 1}`;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new Error(`${where}: not a JSON object (${(e as Error).message})`, { cause: e });
    }
    const sol = row.canonical_solution;
    const entry = row.entry_point;
    tasks.push({
      taskId: stringField(row, 'task_id', where),
      language: languageOf(row, opts.language, where),
      prompt: stringField(row, 'prompt', where),
      canonicalSolution: typeof sol === 'string' ? sol : null,
      test: stringField(row, 'test', where),
      entryPoint: typeof entry === 'string' && entry ? entry : null,
    });
  }
  if (tasks.length === 0) throw new Error(`${source}: no tasks found`);
  return tasks;
}

/** Read a benchmark file, plain or gzip (detected by its magic bytes, not its name). */
export function readBenchmark(file: string, opts: { language?: Language } = {}): BenchTask[] {
  let buf = readFileSync(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  return parseBenchmark(buf.toString('utf8'), { source: file, language: opts.language });
}
