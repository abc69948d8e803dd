// `tasks make` → `data build --tasks` → `eval --bench --mode`, as a user runs them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';

const root = path.join(__dirname, '..', '..', '..');
const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
const rows = (file: string) =>
  gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { task_id: string; level: number; prompt: string; canonical_solution: string });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cli-tasks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('tasks make writes the splits, a card whose counts equal the files, and the planted-bug split', () => {
  const out = path.join(dir, 'suite');
  const r = run('tasks', 'make', '--out', out, '--train', '120', '--test', '15', '--seed', '3');
  expect(r.status).toBe(0);
  const last = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  expect(last).toMatchObject({ train: 120, valid: 15, test: 15, shared_with_train: { test: 0, valid: 0 } });
  const card = JSON.parse(readFileSync(path.join(out, 'card.json'), 'utf8'));
  for (const s of ['train', 'valid', 'test']) {
    const r2 = rows(path.join(out, `${s}.jsonl.gz`));
    expect(card.counts[s].total).toBe(r2.length);
    for (const l of [1, 2, 3])
      expect(card.counts[s].byLevel[String(l)] ?? 0).toBe(r2.filter((t) => t.level === l).length);
  }
  expect(card.command).toContain('--seed 3');
  expect(readFileSync(path.join(out, 'CARD.md'), 'utf8')).toMatch(/\| test \| 15 \| 5 \| 5 \| 5 \|/);
  const fix = readFileSync(path.join(out, 'test-fix.jsonl'), 'utf8').trim().split('\n');
  expect(fix.length).toBe(card.planted.planted);
  expect(fix.length).toBeGreaterThan(0);
}, 300_000);

test('data build --tasks turns the train and valid splits into training text; bad paths are named', () => {
  const suite = path.join(dir, 'suite');
  const out = path.join(dir, 'data');
  const tok = path.join(root, 'models/seed-diffusion-tiny/tokenizer.json');
  const r = run('data', 'build', '--tasks', suite, '--tokenizer', tok, '--out', out);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/135 task documents/);
  const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8'));
  expect(meta.documents).toBe(135);
  expect(meta.files).toMatchObject({ found: 0, train: 120, validation: 15 });
  const bad = run('data', 'build', '--tasks', path.join(dir, 'nope'), '--out', path.join(dir, 'x'));
  expect(bad.status).not.toBe(0);
  expect(bad.stderr).toMatch(/--tasks .*nope: no such file or folder/);
}, 120_000);

test('eval --bench on a task file: --mode ar, per-level pass@1, every completion kept', () => {
  const suite = path.join(dir, 'suite');
  const out = path.join(dir, 'eval', 'ar.json');
  const r = run(
    'eval',
    '--model',
    path.join(root, 'models/seed-diffusion-tiny'),
    '--bench',
    path.join(suite, 'test.jsonl.gz'),
    '--mode',
    'ar',
    '--limit',
    '3',
    '--max-new-tokens',
    '8',
    '--out',
    out,
  );
  expect(r.status).toBe(0);
  const last = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  expect(last.mode).toBe('ar');
  expect(last.language).toBe('python'); // from the file: no --language
  expect(Object.keys(last.by_level).sort()).toEqual(['1', '2', '3']);
  expect(last.tokens_per_forward).toBeLessThanOrEqual(1);
  const kept = readFileSync(last.samples_file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(kept).toHaveLength(3);
  expect(kept[0]).toEqual(expect.objectContaining({ task_id: 'Tasks/test/0', sample: 0, passed: expect.any(Boolean) }));
  expect(existsSync(out)).toBe(true);
  const badMode = run('eval', '--model', 'x', '--bench', 'y', '--mode', 'fast');
  expect(badMode.status).not.toBe(0);
  expect(badMode.stderr).toMatch(/--mode.*fast.*(choices|Allowed)/i);
}, 300_000);
