// `data build` → `train` → `train --resume --extend-to` → `train --init` as a user runs them, on a tiny corpus.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const dir = mkdtempSync(path.join(tmpdir(), 'sd-train-'));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });

beforeAll(() => {
  const src = path.join(dir, 'src');
  mkdirSync(src);
  for (let i = 0; i < 12; i++) {
    const body = `def f${i}(x, y):\n    """Add ${i}."""\n    return x + y * ${i}\n\n\nclass C${i}:\n    def __init__(self):\n        self.v = ${i}\n`;
    writeFileSync(path.join(src, `m${i}.py`), body.repeat(4));
  }
});

test('data build, a short training run, and --resume --extend-to continue it', () => {
  const data = path.join(dir, 'data');
  const out = path.join(dir, 'run');
  let r = run(
    'data',
    'build',
    '--src',
    path.join(dir, 'src'),
    '--out',
    data,
    '--vocab-size',
    '300',
    '--valid-fraction',
    '0.2',
  );
  expect(r.status).toBe(0);
  const common = ['--data', data, '--out', out, '--eval-every', '2', '--checkpoint-every', '2'];
  r = run(
    'train',
    ...common,
    '--config',
    'tiny',
    '--steps',
    '2',
    '--batch',
    '2',
    '--seq',
    '32',
    '--block-sizes',
    '1,4',
  );
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
  r = run('train', ...common, '--resume');
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/at step 2 of 2; pass --extend-to N > 2/);
  r = run('train', ...common, '--resume', '--extend-to', '3');
  expect(r.status).toBe(0);
  const steps = readFileSync(path.join(out, 'train_log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).step);
  expect(steps).toEqual([1, 2, 3]);

  // Fine-tune from that checkpoint with another sequence length: its config, a fresh schedule.
  const ft = path.join(dir, 'ft');
  const ftArgs = ['--data', data, '--out', ft, '--init', path.join(out, 'checkpoint'), '--steps', '2', '--batch', '2'];
  r = run('train', ...ftArgs, '--seq', '48', '--eval-every', '2');
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/done: step 2/);
  const cfg = (f: string) => JSON.parse(readFileSync(path.join(f, 'checkpoint', 'config.json'), 'utf8'));
  expect(cfg(ft).hidden_size).toBe(cfg(out).hidden_size);
  r = run('train', ...ftArgs, '--config', 'small');
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/--init .*cannot be combined with --config/);
  r = run('train', ...ftArgs, '--seq', '100000');
  expect(r.stderr).toMatch(/--seq 100000 exceeds the model's context/);
  r = run('train', ...ftArgs.slice(0, 6), '--init', dir);
  expect(r.stderr).toMatch(/no config.json there/);
});

test('train on a dataset without validation tokens warns that no held-out loss will be measured', () => {
  const data = path.join(dir, 'data-novalid');
  let r = run(
    'data',
    'build',
    '--src',
    path.join(dir, 'src'),
    '--out',
    data,
    '--vocab-size',
    '300',
    '--valid-fraction',
    '0.0001',
  );
  expect(r.status).toBe(0);
  const args = ['--data', data, '--out', path.join(dir, 'run-novalid'), '--config', 'tiny', '--steps', '1'];
  r = run('train', ...args, '--batch', '1', '--seq', '32', '--block-sizes', '4');
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(
    /warning: .*data-novalid has 0 validation tokens, fewer than one window of 32: no held-out loss/,
  );
});
