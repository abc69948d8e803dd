// Training end to end on a tiny corpus: one optimiser step lowers the loss on a fixed batch,
// a short run overfits (loss threshold, ≥ 95% of half-masked positions restored, also with
// KV-cached block decoding), and a resumed run is bit-identical to an uninterrupted one.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Rng } from '@seed-diffusion/corruption';
import { backend } from '@seed-diffusion/native';

import { makeConfig } from '../src/config';
import { TrainGraph } from '../src/graph';
import { Model } from '../src/model';
import { buildTrainBatch } from '../src/objectives';
import { paramViews } from '../src/params';
import { Trainer } from '../src/trainer';

const MASK = 15;
const EOS = 0;
const cfg = makeConfig({
  vocabSize: 16,
  hiddenSize: 48,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  intermediateSize: 96,
  maxSeqLen: 16,
  maskTokenId: MASK,
  eosTokenId: EOS,
  trainedBlockSizes: [4, 8, 16],
  initStd: 0.05,
});

// Tiny shapes: on a loaded 2-core machine OpenMP synchronisation would dominate, so one thread.
backend().numThreads = 1;

/**
 * 8 "documents" of 16 tokens: EOS, then an arithmetic progression mod 14 (a local rule, like
 * code's regularities), repeated. Restoring a masked token needs its neighbours or the doc.
 */
function corpus(): { docs: Int32Array[]; stream: Int32Array } {
  const docs = Array.from({ length: 8 }, (_, k) =>
    Int32Array.from({ length: 16 }, (_, i) => (i === 0 ? EOS : 1 + ((5 * k + 3 * i) % 14))),
  );
  const stream = new Int32Array(16 * 8 * 4);
  for (let i = 0; i < 32; i++) stream.set(docs[i % 8], i * 16);
  return { docs, stream };
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'sd-train-'));

test('one AdamW step on a fixed batch lowers that batch loss', () => {
  const model = Model.init(cfg, 1);
  const { stream } = corpus();
  const t = new Trainer(model, { train: stream }, { steps: 10, batch: 4, seqLen: 16, lr: 3e-3, warmup: 0, clip: 0 });
  const x0 = stream.subarray(0, 64);
  const built = buildTrainBatch(cfg, x0, 4, 16, new Rng(5), {
    topology: 'block_diff',
    block: 4,
    terms: { mask: 1, edit: 0 },
  });
  const g = new TrainGraph(model.backend, cfg, 4, 32, 64);
  const before = g.run(model.views, built.batch, null).loss;
  const grads = model.backend.f32(model.params.length);
  g.run(model.views, built.batch, paramViews(cfg, grads));
  // Plain AdamW step 1 on exactly this gradient (sign-like update of size lr).
  model.backend.adamw(model.params, grads, t.m, t.v, model.params.length, {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0,
    step: 1,
  });
  const after = g.run(model.views, built.batch, null).loss;
  expect(after).toBeLessThan(before);
});

describe('overfitting a tiny corpus', () => {
  const { docs, stream } = corpus();
  const model = Model.init(cfg, 2);
  const trainer = new Trainer(
    model,
    { train: stream, valid: stream },
    {
      steps: 600,
      batch: 8,
      seqLen: 16,
      lr: 4e-3,
      warmup: 20,
      schedule: { clipped: [0.3, 0.8] },
      weightDecay: 0,
      evalBatches: 2,
      seed: 11,
    },
  );
  const losses: number[] = [];
  let firstEval = 0;
  beforeAll(() => {
    firstEval = trainer.evaluate();
    trainer.run((p) => losses.push(p.loss));
  });

  test('loss falls below 0.5 nats (from > 2) and the held-out ELBO below 1 bit/token (from > 3)', () => {
    // Stage 1 ends at step 480: the mean loss of its last 40 steps against the first 20.
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const head = mean(losses.slice(0, 20));
    const tail = mean(losses.slice(440, 480));
    const bpt = trainer.evaluate();
    console.log(
      `loss ${head.toFixed(3)} -> ${tail.toFixed(3)} nats; held-out ELBO ${firstEval.toFixed(3)} -> ${bpt.toFixed(3)} bits/token`,
    );
    expect(head).toBeGreaterThan(2);
    expect(tail).toBeLessThan(0.5);
    expect(firstEval).toBeGreaterThan(3);
    expect(bpt).toBeLessThan(1);
  });

  test('the last 20% of steps ran stage 2 (mask + edit)', () => {
    expect(trainer.curriculum.at(480, 600).stage).toBe(2);
    expect(trainer.curriculum.at(479, 600).stage).toBe(1);
  });

  test('with half of the positions masked, >= 95% are restored (bidirectional block of 16 and cached blocks of 4)', () => {
    const r = new Rng(99);
    let ok = 0;
    let okCached = 0;
    let n = 0;
    let nCached = 0;
    for (const doc of docs) {
      const noisy = Int32Array.from(doc);
      const masked: number[] = [];
      for (let i = 0; i < 16; i++) if (r.next() < 0.5) masked.push(i);
      for (const i of masked) noisy[i] = MASK;
      const logits = model.forwardFull(noisy, { mask: 'bidir' }).toArray();
      // Cached decoding with blocks of 4: the first block is a clean prompt (prefilled), each
      // later block sees the clean previous blocks through the cache.
      const cache = model.newCache(16);
      const cached: Float32Array[] = [new Float32Array(0)];
      model.prefill(cache, doc.slice(0, 4), 4);
      for (let blk = 1; blk < 4; blk++) {
        cached.push(model.forwardBlock(cache, noisy.slice(blk * 4, blk * 4 + 4)).toArray() as Float32Array);
        model.prefill(cache, doc.slice(blk * 4, blk * 4 + 4), 4);
      }
      const argmax = (a: ArrayLike<number>, o: number) => {
        let best = -1;
        for (let v = 0; v < 16; v++) if (v !== MASK && (best < 0 || a[o + v] > a[o + best])) best = v;
        return best;
      };
      for (const i of masked) {
        n++;
        if (argmax(logits, i * 16) === doc[i]) ok++;
        if (i < 4) continue;
        nCached++;
        if (argmax(cached[i >> 2], (i & 3) * 16) === doc[i]) okCached++;
      }
    }
    console.log(
      `restored ${ok}/${n} (bidirectional), ${okCached}/${nCached} (cached blocks of 4 after a prompt block)`,
    );
    expect(ok / n).toBeGreaterThanOrEqual(0.95);
    expect(okCached / nCached).toBeGreaterThanOrEqual(0.95);
  });
});

test('resume from a checkpoint is bit-identical to an uninterrupted run', () => {
  const { stream } = corpus();
  const opts = { steps: 6, batch: 4, seqLen: 16, lr: 5e-3, warmup: 2, seed: 4, editStart: 0.5 };
  const a = new Trainer(Model.init(cfg, 9), { train: stream }, opts);
  a.run();
  const dir = tmp();
  const b1 = new Trainer(Model.init(cfg, 9), { train: stream }, { ...opts, outDir: dir, checkpointEvery: 3 });
  for (let i = 0; i < 3; i++) b1.trainStep();
  b1.saveCheckpoint(path.join(dir, 'checkpoint'));
  const b2 = Trainer.resume(path.join(dir, 'checkpoint'), { train: stream });
  expect(b2.step).toBe(3);
  b2.run();
  const pa = a.model.params.toArray();
  const pb = b2.model.params.toArray();
  expect(Buffer.from(pb.buffer).equals(Buffer.from(pa.buffer))).toBe(true);
  expect(Buffer.from(b2.v.toArray().buffer).equals(Buffer.from(a.v.toArray().buffer))).toBe(true);
});

test('resume refuses a checkpoint whose weights and state disagree, or other data', () => {
  const { stream } = corpus();
  const dir = tmp();
  const t = new Trainer(Model.init(cfg, 1), { train: stream }, { steps: 4, batch: 2, seqLen: 16 });
  t.trainStep();
  t.saveCheckpoint(dir);
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'trainer_state.json'), 'utf8'));
  state.step = 2;
  fs.writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify(state));
  // The manifest catches the edited file first; without one (the older layout) the steps disagree.
  expect(() => Trainer.resume(dir, { train: stream })).toThrow(/trainer_state.json (has \d+ bytes|does not match)/);
  fs.rmSync(path.join(dir, 'manifest.json'));
  expect(() => Trainer.resume(dir, { train: stream })).toThrow(
    /model.safetensors is from step 1, trainer_state.json from step 2/,
  );
});

test('run writes the JSONL log, the SVG curves and a loadable checkpoint', () => {
  const { stream } = corpus();
  const dir = tmp();
  const t = new Trainer(
    Model.init(cfg, 1),
    { train: stream, valid: stream },
    {
      steps: 4,
      batch: 2,
      seqLen: 16,
      outDir: dir,
      evalEvery: 2,
      evalBatches: 1,
      tokenizerJson: '{"model":{}}',
    },
  );
  t.run();
  const lines = fs
    .readFileSync(path.join(dir, 'train_log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.map((l) => l.step)).toEqual([1, 2, 3, 4]);
  expect(lines[1].evalBitsPerToken).toBeGreaterThan(0);
  const svg = fs.readFileSync(path.join(dir, 'training_curves.svg'), 'utf8');
  expect(svg).toMatch(/^<svg/);
  expect(svg).toContain('<path');
  const m = Model.load(path.join(dir, 'checkpoint'));
  expect(Buffer.from(m.params.toArray().buffer).equals(Buffer.from(t.model.params.toArray().buffer))).toBe(true);
  expect(fs.readFileSync(path.join(dir, 'checkpoint', 'tokenizer.json'), 'utf8')).toBe('{"model":{}}');
});

test('a custom objective through the graph hook gives the same loss and gradients as the default', () => {
  const model = Model.init(cfg, 4);
  const b = model.backend;
  const { stream } = corpus();
  const built = buildTrainBatch(cfg, stream.subarray(0, 32), 2, 16, new Rng(8), {
    topology: 'block_diff',
    block: 8,
    terms: { mask: 1, edit: 0 },
  });
  const g = new TrainGraph(b, cfg, 2, 32, 32);
  const g1 = b.f32(model.params.length);
  const l1 = g.run(model.views, built.batch, paramViews(cfg, g1)).loss;
  const targets = b.from(built.batch.targets);
  const weights = b.from(built.batch.weights);
  const rowLoss = b.f32(32);
  const objective = (
    logits: import('@seed-diffusion/native').Tensor,
    dl: import('@seed-diffusion/native').Tensor | null,
    R: number,
    V: number,
  ) => {
    b.xent(logits, targets, weights, rowLoss, dl, R, V, cfg.maskTokenId);
    const l = rowLoss.toArray();
    return built.batch.weights.reduce((s, w, r) => s + w * l[r], 0);
  };
  const g2 = b.f32(model.params.length);
  const l2 = g.run(model.views, { ...built.batch, objective }, paramViews(cfg, g2)).loss;
  expect(l2).toBeCloseTo(l1, 10);
  expect(Buffer.from(g2.toArray().buffer).equals(Buffer.from(g1.toArray().buffer))).toBe(true);
});
