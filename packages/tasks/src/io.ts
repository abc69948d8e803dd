// Task files: jsonl, gzip-compressed when the name ends in .gz; written atomically.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

import type { Task } from './generate';

/** Write to a temporary file, flush it, then rename: a crash leaves the old file or the new one. */
export function writeBytesAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function tasksToJsonl(tasks: readonly Task[]): string {
  return tasks.map((t) => JSON.stringify(t)).join('\n') + (tasks.length ? '\n' : '');
}

export function writeTasks(file: string, tasks: readonly Task[]): void {
  const text = tasksToJsonl(tasks);
  writeBytesAtomic(file, file.endsWith('.gz') ? gzipSync(text, { level: 9 }) : text);
}

/** Reads a task file written by writeTasks (plain or gzip, told by the magic bytes). */
export function readTasks(file: string): Task[] {
  let buf = readFileSync(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const out: Task[] = [];
  buf
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let row: Task;
      try {
        row = JSON.parse(line) as Task;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not a JSON object (${(e as Error).message})`, { cause: e });
      }
      for (const k of ['task_id', 'prompt', 'canonical_solution', 'test', 'entry_point'] as const)
        if (typeof row[k] !== 'string') throw new Error(`${file}:${i + 1}: field "${k}" must be a string`);
      out.push(row);
    });
  return out;
}

/** A task as training text: the prompt followed by its solution (what `data build --tasks` tokenizes). */
export function trainingText(t: Pick<Task, 'prompt' | 'canonical_solution'>): string {
  return t.prompt + t.canonical_solution;
}
