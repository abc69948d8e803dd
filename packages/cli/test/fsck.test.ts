// `seed-diffusion fsck`: a model folder and a training run folder are checked and reported —
// complete and incomplete checkpoints, which one --resume would use, leftovers of interrupted
// saves, the weights (shapes, unused tensors, NaN/Inf) and the tokenizer; the exit code says.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Model, Trainer, makeConfig } from '@seed-diffusion/model';
import { backend } from '@seed-diffusion/native';

import { fsck } from '../src/commands/fsck';

backend().numThreads = 1;
const bin = path.join(__dirname, '..', 'dist', 'bin.js');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sd-fsck-'));
const run = path.join(root, 'run');
const TOKENIZER = fs.readFileSync(
  path.join(__dirname, '..', '..', '..', 'models', 'seed-diffusion-tiny', 'tokenizer.json'),
  'utf8',
);
const cfg = makeConfig({
  vocabSize: 8192,
  hiddenSize: 16,
  numLayers: 1,
  numHeads: 2,
  numKvHeads: 1,
  intermediateSize: 32,
  maxSeqLen: 16,
  maskTokenId: 8187,
  eosTokenId: 8186,
  padTokenId: 8188,
  trainedBlockSizes: [4],
});

beforeAll(() => {
  const stream = Int32Array.from({ length: 16 * 16 }, (_, i) => (i * 7) % 8000);
  new Trainer(
    Model.init(cfg, 1),
    { train: stream },
    {
      steps: 3,
      batch: 2,
      seqLen: 16,
      outDir: run,
      checkpointEvery: 1,
      keepCheckpoints: 2,
      tokenizerJson: TOKENIZER,
    },
  ).run();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test('a healthy run folder: both kept checkpoints complete, the newest is the resume point', () => {
  const r = fsck(run);
  expect(r.kind).toBe('run');
  expect(r.ok).toBe(true);
  const what = r.checks.map((c) => `${c.what}: ${c.detail}`);
  expect(what).toContainEqual(
    expect.stringMatching(/^checkpoints\/step-00000003: complete, step 3 \(what --resume uses\)/),
  );
  expect(what).toContainEqual(expect.stringMatching(/^checkpoints\/step-00000002: complete, step 2$/));
  expect(what).toContainEqual(
    expect.stringMatching(/^checkpoints\/step-00000003\/weights: every tensor present .* all values finite/),
  );
  expect(what).toContainEqual(expect.stringMatching(/^checkpoint: -> checkpoints\/step-00000003 \(step 3\)/));
  expect(what).toContainEqual(expect.stringMatching(/^train_log\.jsonl: 3 records up to step 3/));
});

test('a damaged newest checkpoint and a stale temporary are reported; --clean removes the temporary', () => {
  const dir = path.join(root, 'damaged');
  fs.cpSync(run, dir, { recursive: true, verbatimSymlinks: true });
  fs.appendFileSync(path.join(dir, 'checkpoints', 'step-00000003', 'model.safetensors'), 'x');
  fs.mkdirSync(path.join(dir, 'checkpoints', 'step-00000004.tmp-123-abc-0'));
  const r = fsck(dir);
  expect(r.ok).toBe(false);
  const line = (re: RegExp) => r.checks.find((c) => re.test(c.what));
  expect(line(/step-00000003$/)).toMatchObject({
    ok: false,
    detail: expect.stringMatching(/incomplete: model\.safetensors has \d+ bytes, the manifest says/),
  });
  expect(line(/step-00000002$/)).toMatchObject({ ok: true, detail: 'complete, step 2 (what --resume uses)' });
  expect(line(/^temporaries$/)).toMatchObject({
    warning: true,
    detail: expect.stringMatching(/1 left by interrupted saves/),
  });
  expect(line(/^checkpoint$/)?.ok).toBe(false);
  fsck(dir, { clean: true });
  expect(fs.existsSync(path.join(dir, 'checkpoints', 'step-00000004.tmp-123-abc-0'))).toBe(false);
});

test('a model folder: NaN weights and a tokenizer of another model fail, naming what', () => {
  const dir = path.join(root, 'model');
  fs.cpSync(path.join(run, 'checkpoints', 'step-00000003'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'manifest.json'));
  expect(fsck(dir)).toMatchObject({ kind: 'model', ok: true });
  const f = path.join(dir, 'model.safetensors');
  const b = fs.readFileSync(f);
  b.writeFloatLE(NaN, b.length - 4);
  fs.writeFileSync(f, b);
  const r = fsck(dir);
  expect(r.ok).toBe(false);
  expect(r.checks.find((c) => c.what === 'weights')?.detail).toMatch(/tensor model\.norm\.weight holds NaN at \[15\]/);
  expect(fsck(dir, { trustWeights: true }).ok).toBe(true);
  const cfgFile = path.join(dir, 'config.json');
  const j = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  fs.writeFileSync(cfgFile, JSON.stringify({ ...j, mask_token_id: 8189 }));
  expect(fsck(dir, { trustWeights: true }).checks.find((c) => c.what === 'tokenizer.json')?.detail).toMatch(
    /<\|mask\|> = 8187 but config\.json's mask_token_id is 8189/,
  );
});

test('the command prints the report and exits 1 on a problem', () => {
  const ok = spawnSync(process.execPath, [bin, 'fsck', run], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  expect(ok.status).toBe(0);
  expect(ok.stdout).toMatch(/run folder .*\n(.|\n)*fsck: no problems found/);
  const bad = spawnSync(process.execPath, [bin, 'fsck', path.join(root, 'model'), '--json'], { encoding: 'utf8' });
  expect(bad.status).toBe(1);
  expect(JSON.parse(bad.stdout)).toMatchObject({ kind: 'model', ok: false });
});
