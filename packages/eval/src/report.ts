import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { ScoreReport } from './runner';

/** Write a file atomically: a temporary name in the same folder, then rename. */
export function writeFileAtomic(file: string, data: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

/** The report as JSON, without the per-sample records (those go to writeSamples' jsonl). */
export function writeReport(file: string, report: ScoreReport): void {
  const { samples, ...rest } = report;
  writeFileAtomic(file, `${JSON.stringify({ ...rest, samplesSaved: samples.length }, null, 2)}\n`);
}

/**
 * Every sample as jsonl: task, sample index, passed, reason, the generator's output and the program
 * that was run — the outputs behind the score, saved with it.
 */
export function writeSamples(file: string, report: ScoreReport): void {
  writeFileAtomic(file, report.samples.map((s) => `${JSON.stringify(s)}\n`).join(''));
}

/** Failing samples as jsonl (task, sample, status, reason, stderr tail, output, program), for reading what went wrong. */
export function writeFailures(file: string, report: ScoreReport): void {
  writeFileAtomic(file, report.failures.map((f) => `${JSON.stringify(f)}\n`).join(''));
}

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);
const num = (x: number | null, d = 2) => (x === null ? '-' : x.toFixed(d));

/** A plain-text table of one or more reports: scores with the sampler's speed next to them. */
export function formatTable(reports: readonly ScoreReport[]): string {
  const head = [
    'benchmark',
    'kind',
    'lang',
    'tasks',
    'n',
    'pass@1',
    'pass@10',
    'passed',
    'tok/fwd',
    'tok/s',
    'wall s',
    'generator',
  ];
  const rows = reports.map((r) => [
    path.basename(r.benchmark),
    r.editMode ? `edit ${r.editMode}` : r.kind,
    r.languages.join(','),
    String(r.tasks),
    String(r.samplesPerTask),
    pct(r.passAtK['1'] ?? null),
    pct(r.passAtK['10'] ?? null),
    `${r.samplesPassed}/${r.samplesTotal}`,
    num(r.throughput.tokensPerForward),
    num(r.throughput.tokensPerSecond, 1),
    r.wallSeconds.toFixed(1),
    r.generator.name,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
