// The README's main command: `generate` on the embedded default model (models/seed-diffusion-tiny),
// with no --model, as a newcomer runs it on a fresh clone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const modelDir = path.join(__dirname, '..', '..', '..', 'models', 'seed-diffusion-tiny');
const generate = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'generate', ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });

test('the embedded model is in the repository with its three files', () => {
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) {
    expect(existsSync(path.join(modelDir, f))).toBe(true);
  }
});

test('generate with the default model completes code block by block, greedy and reproducible', () => {
  const args = ['def add(a, b):\n', '--max-new-tokens', '24', '--block', '8', '--json'];
  const a = generate(...args);
  expect(a.stderr).toBe('');
  expect(a.status).toBe(0);
  const out = JSON.parse(a.stdout) as { text: string; tokens: number[]; stats: { forwards: number } };
  expect(out.tokens.length).toBeGreaterThan(0);
  expect(out.tokens.length).toBeLessThanOrEqual(24);
  expect(out.text.length).toBeGreaterThan(0);
  expect(out.stats.forwards).toBeGreaterThan(0);
  // greedy decoding is deterministic
  expect(JSON.parse(generate(...args).stdout).tokens).toEqual(out.tokens);
});

test('the main command streams text and, with --show-steps, draws the steps', () => {
  const r = generate('import os\n', '--max-new-tokens', '16', '--block', '8', '--show-steps');
  expect(r.status).toBe(0);
  expect(r.stdout.length).toBeGreaterThan(0);
  expect(r.stderr).toMatch(/tokens in .* forwards/);
});
