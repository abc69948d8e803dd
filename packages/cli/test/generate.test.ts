// `seed-diffusion generate` as a user runs it, on a real (randomly initialised) tiny model saved to
// a temporary folder with a tokenizer trained on a few lines of code.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Model } from '@seed-diffusion/model';
import { SPECIAL_TOKENS, Tokenizer } from '@seed-diffusion/tokenizer';

const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const dir = mkdtempSync(path.join(tmpdir(), 'sd-generate-'));
// One OpenMP thread: tiny forwards only lose time to threads, badly so on a loaded machine.
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, 'generate', ...args], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
const json = (...args: string[]) => {
  const r = run(...args, '--json', '--model', dir);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { text: string; tokens: number[]; stats: Record<string, number | string> };
};

beforeAll(() => {
  const code = ['def add(a, b):\n    return a + b\n', 'for i in range(10):\n    print(i)\n', 'class Foo:\n    pass\n'];
  const tok = Tokenizer.train(code, { vocabSize: 300 });
  const id = (t: string) => tok.tokenToId(t) as number;
  Model.init(
    {
      vocabSize: tok.vocabSize,
      hiddenSize: 32,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      intermediateSize: 64,
      maxSeqLen: 128,
      maskTokenId: id(SPECIAL_TOKENS.mask),
      eosTokenId: id(SPECIAL_TOKENS.eos),
      initStd: 0.5,
    },
    1,
  ).save(dir);
  tok.save(path.join(dir, 'tokenizer.json'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('generates a continuation; cache and nocache agree; ar is one token per forward', () => {
  const a = json('def add(a, b):', '--block', '8', '--max-new-tokens', '24', '--no-eos-stop');
  expect(a.tokens).toHaveLength(24);
  expect(a.stats).toMatchObject({ mode: 'cache', blockSize: 8, generatedTokens: 24 });
  const b = json('def add(a, b):', '--block', '8', '--max-new-tokens', '24', '--no-eos-stop', '--mode', 'nocache');
  expect(b.tokens).toEqual(a.tokens);
  const ar = json('def add(a, b):', '--mode', 'ar', '--max-new-tokens', '6', '--no-eos-stop');
  expect(ar.stats).toMatchObject({ blockSize: 1, forwards: 6, tokensPerForward: 1 });
});

test('--mode verify prints exactly the text of --mode ar, greedy or sampled with the same seed', () => {
  const o = ['for i in range(10):', '--max-new-tokens', '30', '--no-eos-stop'];
  const ar = json(...o, '--mode', 'ar');
  const v = json(...o, '--mode', 'verify', '--block', '6', '--draft-rows', '3');
  expect(v.tokens).toEqual(ar.tokens);
  expect(v.text).toBe(ar.text);
  expect(v.stats).toMatchObject({ mode: 'verify', blockSize: 6, generatedTokens: 30 });
  expect(v.stats.forwards).toBe(30 - (v.stats.accepted as number));
  const s = [...o, '--temperature', '0.9', '--top-p', '0.95', '--seed', '5'];
  const arS = json(...s, '--mode', 'ar');
  const vS = json(...s, '--mode', 'verify', '--block', '8');
  expect(vS.text).toBe(arS.text);
  expect(arS.text).not.toBe(ar.text);
  const r = run('x', '--model', dir, '--mode', 'verify', '--self-correct');
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/selfCorrect: mode 'verify' keeps every confirmed token/);
});

test('streams text to stdout and the stats to stderr; --show-steps draws every step', () => {
  const r = run('for i in', '--model', dir, '--block', '4', '--max-new-tokens', '8', '--show-steps', '--no-eos-stop');
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/^block 0 step 0 \(fill, \d+ masked\): /m);
  expect(r.stderr).toMatch(/░/);
  expect(r.stderr).toMatch(/8 tokens in [\d.]+ s \([\d.]+ tok\/s\), \d+ forwards/);
  const j = json('for i in', '--block', '4', '--max-new-tokens', '8', '--no-eos-stop');
  // the text ends its line before the stats, piped or not
  expect(r.stdout).toBe(j.text.endsWith('\n') ? j.text : `${j.text}\n`);
});

test('sampling options, stop strings and the trajectory record', () => {
  const sampled = ['class', '--temperature', '1', '--top-k', '50', '--top-p', '0.9', '--seed', '3', '--no-eos-stop'];
  expect(json(...sampled).tokens).toEqual(json(...sampled).tokens);
  const full = json('class', '--max-new-tokens', '40', '--no-eos-stop');
  const stop = full.text.slice(8, 11);
  const cut = json('class', '--max-new-tokens', '40', '--no-eos-stop', '--stop', stop);
  expect(cut.text).toBe(full.text.slice(0, full.text.indexOf(stop)));
  expect(cut.stats.stopReason).toBe('stop');
  const file = path.join(dir, 'traj.json');
  json('class', '--max-new-tokens', '12', '--no-eos-stop', '--record', file, '--policy', 'fixed', '--steps', '4');
  const traj = JSON.parse(readFileSync(file, 'utf8'));
  expect(traj.version).toBe(1);
  expect(traj.blocks.length).toBeGreaterThan(0);
  expect(traj.output).toHaveLength(12);
});

test('clear errors: missing model, empty prompt, bad and unknown options', () => {
  const missing = run('x', '--model', path.join(dir, 'nope'));
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/^seed-diffusion: no model at .*nope \(config.json missing\)/);
  const empty = run('', '--model', dir);
  expect(empty.stderr).toMatch(/prompt is empty/);
  const bad = run('x', '--model', dir, '--block', '0');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--block must be an integer >= 1/);
  const unknown = run('x', '--model', dir, '--bogus');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
  const arBlock = run('x', '--model', dir, '--mode', 'ar', '--block', '8');
  expect(arBlock.stderr).toMatch(/blockSize must be 1/);
});
