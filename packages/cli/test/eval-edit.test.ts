// `seed-diffusion eval edit` as a user runs it, on editing files in the public layouts written here
// (HumanEvalPack rows and CanItEdit rows with their exact field names; the project ships no data).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const model = path.join(__dirname, '..', '..', '..', 'models', 'seed-diffusion-tiny');
const dir = mkdtempSync(path.join(tmpdir(), 'sd-eval-edit-'));
const hep = path.join(dir, 'humanevalfix-python.jsonl');
const cie = path.join(dir, 'canitedit.jsonl.gz');

const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'eval', 'edit', ...args], { encoding: 'utf8', env: { ...process.env } });
/** The last stdout line: the run's JSON summary. */
function summary(r: ReturnType<typeof run>) {
  expect(r.stderr).not.toMatch(/^seed-diffusion:/m);
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

beforeAll(() => {
  const decl = 'def count_vowels(s: str) -> int:\n';
  const hepRow = {
    task_id: 'Python/7',
    prompt: `${decl}    """Number of vowels (a, e, i, o, u, either case) in s."""\n`,
    declaration: decl,
    canonical_solution: '    return sum(1 for c in s.lower() if c in "aeiou")\n',
    buggy_solution: '    return sum(1 for c in s if c in "aeiou")\n',
    bug_type: 'missing logic',
    failure_symptoms: 'incorrect output',
    entry_point: 'count_vowels',
    import: '',
    test_setup: '',
    test: '\n\ndef check(count_vowels):\n    assert count_vowels("") == 0\n    assert count_vowels("Apple") == 2\n    assert count_vowels("xyz") == 0\n\ncheck(count_vowels)',
    example_test: 'def check(count_vowels):\n    assert count_vowels("Apple") == 2\ncheck(count_vowels)\n',
    signature: 'count_vowels(s: str) -> int',
    docstring: 'Number of vowels (a, e, i, o, u, either case) in s.',
    instruction:
      'Write a Python function `count_vowels(s: str) -> int` to solve the following problem:\nNumber of vowels.',
  };
  const cieRow = {
    id: 3,
    name: 'clamp',
    full_name: '3_clamp',
    before: 'def clamp(x, lo, hi):\n    return max(lo, x)\n',
    after: 'def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n',
    tests:
      '### START TESTS ###\nif True:  # pragma: no cover\n    assert clamp(5, 0, 3) == 3\n    assert clamp(-1, 0, 3) == 0\n    assert clamp(2, 0, 3) == 2\n',
    instruction_descriptive: 'Make clamp also limit x from above by hi.',
    instruction_lazy: 'clamp from above too',
    taxonomy: { change_kind: 'corrective', libraries: [], topic: 'Math' },
  };
  writeFileSync(hep, `${JSON.stringify(hepRow)}\n`);
  writeFileSync(cie, gzipSync(`${JSON.stringify(cieRow)}\n`));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([
  ['HumanEvalPack', () => hep],
  ['CanItEdit (.jsonl.gz)', () => cie],
])('%s file as given: reference fixes score 100 %%, unchanged code 0 %%', (_name, file) => {
  const fixes = summary(run('--tasks', file(), '--answer', 'fixes', '--out', path.join(dir, 'fixes.json')));
  expect(fixes.runs[0]).toMatchObject({ passed: 1, total: 1, pass_at_1: 1 });
  expect(fixes.isolated).toBe(true);
  const same = summary(run('--tasks', file(), '--answer', 'unchanged', '--out', path.join(dir, 'same.json')));
  expect(same.runs[0]).toMatchObject({ passed: 0, pass_at_1: 0 });
  const samples = readFileSync(same.runs[0].outputs, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(samples[0].reason.kind).toMatch(/assertion|exception/);
  expect(samples[0].program).toContain(samples[0].output);
});

test.each([
  ['HumanEvalPack', () => hep, /^def count_vowels\(s: str\) -> int:\n/],
  ['CanItEdit', () => cie, /^def clamp\(x, lo, hi\):\n/],
])('--model edits a %s file in both modes; outputs saved with every score; cores shared', (_name, file, start) => {
  const r = run(
    ...['--tasks', file(), '--model', model, '--edit-mode', 'both', '--max-new-tokens', '24', '--block', '8'],
    ...['--out', path.join(dir, 'model.json')],
  );
  const s = summary(r);
  expect(s.runs.map((x: { edit_mode: string }) => x.edit_mode)).toEqual(['in-place', 'regenerate']);
  expect(s.threads + s.concurrency).toBeLessThanOrEqual(Math.max(2, cpus().length));
  for (const x of s.runs) {
    expect(existsSync(x.results)).toBe(true);
    const rows = readFileSync(x.outputs, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toHaveLength(1);
    expect(typeof rows[0].output).toBe('string');
    expect(rows[0].program).toContain(rows[0].output);
    // in place, the instruction comment is context only: the program starts as the task's does
    if (x.edit_mode === 'in-place') expect(rows[0].program).toMatch(start);
  }
  expect(r.stdout).toMatch(/edit in-place .*\n.*edit regenerate/);
});

test('bad flags and files are named in the error', () => {
  const mode = run('--tasks', hep, '--answer', 'fixes', '--edit-mode', 'sideways');
  expect(mode.status).toBe(1);
  expect(mode.stderr).toMatch(/--edit-mode must be in-place, regenerate or both/);
  const missing = run('--tasks', path.join(dir, 'nope.jsonl'), '--answer', 'fixes');
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/nope\.jsonl/);
  const who = run('--tasks', hep);
  expect(who.stderr).toMatch(/--answer must be fixes or unchanged \(or give --model DIR\)/);
});
