// Editing tasks from the files users have: `eval plant` output, HumanEvalPack (HumanEvalFix) rows, and
// CanItEdit rows, each in its public field names, as .jsonl or .jsonl.gz. The format is told per row
// by its fields, and every error names the file, the line and the field.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

import { EditTask, functionHead } from './edit-task';
import { Language } from './types';

/** Which CanItEdit instruction to give: the descriptive one (default) or the lazy one. */
export type CanItEditInstruction = 'descriptive' | 'lazy';

export interface ReadEditOptions {
  source?: string;
  canItEditInstruction?: CanItEditInstruction;
}

type Row = Record<string, unknown>;

function str(row: Row, field: string, where: string): string {
  const v = row[field];
  if (typeof v !== 'string') throw new Error(`${where}: field "${field}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/** HumanEvalPack names the language in the task id ("Python/0", "JavaScript/12"). */
function humanEvalPackLanguage(taskId: string, where: string): Language {
  const prefix = taskId.split('/')[0].toLowerCase();
  if (prefix === 'python') return 'python';
  if (prefix === 'javascript' || prefix === 'js') return 'javascript';
  throw new Error(
    `${where}: task ${JSON.stringify(taskId)} is ${prefix || 'of no known language'}: the sandbox runs Python and JavaScript rows of HumanEvalPack`,
  );
}

/**
 * A HumanEvalPack row as HumanEvalFix uses it (bigcode-evaluation-harness, "tests" variant): the
 * program is declaration + buggy_solution, the fix declaration + canonical_solution, the instruction
 * "Fix bugs in <entry_point>." (the row's own `instruction` field is the synthesis task's), and a
 * regenerating model continues the declaration.
 */
function humanEvalPack(row: Row, where: string): EditTask {
  const taskId = str(row, 'task_id', where);
  const language = humanEvalPackLanguage(taskId, where);
  const declaration = str(row, 'declaration', where);
  const entryPoint = str(row, 'entry_point', where);
  const setup = typeof row.import === 'string' && language === 'python' ? row.import : '';
  return {
    taskId,
    sourceTaskId: taskId,
    language,
    entryPoint,
    instruction: `Fix bugs in ${entryPoint}.`,
    before: setup + declaration + str(row, 'buggy_solution', where),
    after: setup + declaration + str(row, 'canonical_solution', where),
    test: str(row, 'test', where),
    head: setup + declaration,
    format: 'humanevalpack',
  };
}

/** A CanItEdit row: edit `before` as the instruction says; `tests` run after the program (Python). */
function canItEdit(row: Row, where: string, which: CanItEditInstruction): EditTask {
  const id = row.full_name ?? row.name ?? row.id;
  if (typeof id !== 'string' && typeof id !== 'number')
    throw new Error(`${where}: a CanItEdit row needs "full_name", "name" or "id" to name it`);
  const taskId = `CanItEdit/${id}`;
  return {
    taskId,
    sourceTaskId: String(row.id ?? id),
    language: 'python',
    entryPoint: null,
    instruction: str(row, `instruction_${which}`, where),
    before: str(row, 'before', where),
    after: str(row, 'after', where),
    test: str(row, 'tests', where),
    head: '',
    format: 'canitedit',
  };
}

/** A row written by `eval plant` (editTasksToJsonl). */
function planted(row: Row, where: string): EditTask {
  if (row.language !== 'python')
    throw new Error(`${where}: field "language" must be "python", got ${JSON.stringify(row.language)}`);
  const before = str(row, 'before', where);
  const entryPoint = typeof row.entry_point === 'string' ? row.entry_point : null;
  return {
    taskId: str(row, 'task_id', where),
    sourceTaskId: str(row, 'source_task_id', where),
    language: 'python',
    entryPoint,
    instruction: str(row, 'instruction', where),
    before,
    after: str(row, 'after', where),
    test: str(row, 'test', where),
    head: functionHead(before, entryPoint, 'python'),
    format: 'planted',
    bug: row.bug as EditTask['bug'],
    plant: row.plant as EditTask['plant'],
  };
}

/** Parse editing tasks from jsonl text; each row's format is told by its fields. */
export function parseEditRows(text: string, opts: ReadEditOptions = {}): EditTask[] {
  const source = opts.source ?? 'edit tasks';
  const out: EditTask[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${source}:${i + 1}`;
    let row: Row;
    try {
      row = JSON.parse(line) as Row;
    } catch (e) {
      throw new Error(`${where}: not a JSON object (${(e as Error).message})`, { cause: e });
    }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new Error(`${where}: not a JSON object`);
    let task: EditTask;
    if ('buggy_solution' in row) task = humanEvalPack(row, where);
    else if ('instruction_descriptive' in row || 'instruction_lazy' in row)
      task = canItEdit(row, where, opts.canItEditInstruction ?? 'descriptive');
    else if ('before' in row && 'source_task_id' in row) task = planted(row, where);
    else
      throw new Error(
        `${where}: not an editing task: expected HumanEvalPack fields (declaration, buggy_solution, canonical_solution, test, entry_point), ` +
          'CanItEdit fields (before, after, tests, instruction_descriptive, instruction_lazy) or an `eval plant` row',
      );
    if (seen.has(task.taskId)) throw new Error(`${where}: task id ${JSON.stringify(task.taskId)} appears twice`);
    seen.add(task.taskId);
    out.push(task);
  });
  if (out.length === 0) throw new Error(`${source}: no editing tasks found`);
  return out;
}

/** Read editing tasks from a .jsonl or .jsonl.gz file (gzip told by its magic bytes, not its name). */
export function readEditTasks(file: string, opts: Omit<ReadEditOptions, 'source'> = {}): EditTask[] {
  let buf = readFileSync(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  return parseEditRows(buf.toString('utf8'), { ...opts, source: file });
}
