// The trainer: AdamW with warmup + cosine LR, global-norm clipping, gradient accumulation,
// the two-stage curriculum over block-diffusion batches, held-out masked-ELBO evaluation,
// checkpoints with exact resume, a JSONL log and an SVG plot of the curves.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Curriculum, Rng } from '@seed-diffusion/corruption';
import type { Tensor } from '@seed-diffusion/native';

import { zero } from './activations';
import { saveModel } from './checkpoint';
import {
  DEFAULT_KEEP,
  commitCheckpointDir,
  latestCheckpoint,
  saveRunCheckpoint,
  verifyCheckpoint,
} from './checkpoint-dir';
import { writeFileAtomic } from './fsutil';
import { TrainGraph } from './graph';
import { lrAt } from './lr';
import { Model } from './model';
import type { TrainTopology } from './objectives';
import { buildEvalBatch, buildTrainBatch } from './objectives';
import type { ParamViews } from './params';
import { paramLayout, paramViews } from './params';
import { linePlotSvg } from './plot-svg';
import { SafetensorsFile, SafetensorsSet, saveSafetensorsSet } from './safetensors';
import { WindowSampler } from './windows';
import type { DataCursor } from './windows';

export interface TrainOptions {
  steps: number;
  batch: number;
  seqLen: number;
  /** Micro-batches per optimiser step (default 1). */
  accum?: number;
  lr?: number;
  /** Final LR of the cosine (default lr/10). */
  minLr?: number;
  /** Linear warmup steps (default min(100, steps/10)). */
  warmup?: number;
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  adamEps?: number;
  /** Global gradient-norm clip (0: off; default 1). */
  clip?: number;
  /** Training attention topology (default: the model config's; 'block_diff' or 'bidir'). */
  topology?: TrainTopology;
  /** Block sizes drawn uniformly per micro-batch (default: config.trainedBlockSizes that fit seqLen). */
  blockSizes?: number[];
  /** Fraction of steps before the edit term joins (default 0.8). */
  editStart?: number;
  editWeight?: number;
  alphaMax?: number;
  schedule?: 'linear' | 'cosine' | 'loglinear' | { clipped: [number, number] };
  /** Evaluate every N steps (0: only at the end; default 0). */
  evalEvery?: number;
  evalBatches?: number;
  /** Block size of the evaluation ELBO (default: the largest trained block dividing seqLen). */
  evalBlock?: number;
  /** Checkpoint every N steps (0: only at the end). Needs outDir. */
  checkpointEvery?: number;
  /** Checkpoints kept in outDir/checkpoints (the newest and the ones before it; default 3). */
  keepCheckpoints?: number;
  outDir?: string;
  seed?: number;
  /** tokenizer.json text written into checkpoints. */
  tokenizerJson?: string;
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  block: number;
  stage: 1 | 2;
  /** Loss tokens processed so far (this run and the ones resumed from). */
  tokens: number;
  tokensPerSec: number;
  elapsedSec: number;
  etaSec: number;
  evalBitsPerToken?: number;
}

export interface StepResult {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  block: number;
  stage: 1 | 2;
  seconds: number;
}

type Resolved = Required<Omit<TrainOptions, 'outDir' | 'tokenizerJson' | 'schedule' | 'evalBlock'>> &
  Pick<TrainOptions, 'outDir' | 'tokenizerJson' | 'schedule'> & { evalBlock: number };

export interface TrainerState {
  version: 1;
  step: number;
  rng: number[];
  cursor: DataCursor;
  tokens: number;
  elapsedSec: number;
  /** Identifies the training tokens (resuming on other data would not continue the same run). */
  data: string;
  options: Omit<Resolved, 'tokenizerJson'>;
}

/** Cheap fingerprint of a token stream: its length and an FNV-1a hash of a strided sample. */
export function dataFingerprint(tokens: Int32Array): string {
  let h = 0x811c9dc5;
  const stride = Math.max(1, Math.floor(tokens.length / 65536));
  for (let i = 0; i < tokens.length; i += stride) h = Math.imul(h ^ tokens[i], 0x01000193) >>> 0;
  return `${tokens.length}:${h.toString(16)}`;
}

export const STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';

export class Trainer {
  readonly opts: Resolved;
  readonly curriculum: Curriculum;
  step = 0;
  tokens = 0;
  elapsedSec = 0;
  rng: Rng;
  readonly train: WindowSampler;
  readonly valid: WindowSampler | null;
  readonly grads: Tensor;
  readonly m: Tensor;
  readonly v: Tensor;
  private readonly graph: TrainGraph;
  private readonly pv: ParamViews;
  private readonly gv: ParamViews;
  private readonly unigram: Float64Array;
  private readonly forbid: number[];
  private rateEma = 0;
  readonly dataId: string;

  constructor(
    readonly model: Model,
    data: { train: Int32Array; valid?: Int32Array },
    options: TrainOptions,
  ) {
    const c = model.config;
    const o = options;
    const topology = o.topology ?? (c.attentionTopology === 'bidir' ? 'bidir' : 'block_diff');
    const blockSizes = (o.blockSizes ?? c.trainedBlockSizes).filter((b) => b <= o.seqLen);
    if (topology === 'block_diff' && blockSizes.length === 0) {
      throw new Error(
        `train: no block size fits seqLen ${o.seqLen} (blockSizes ${JSON.stringify(o.blockSizes ?? c.trainedBlockSizes)})`,
      );
    }
    const counts = {
      steps: o.steps,
      batch: o.batch,
      seqLen: o.seqLen,
      accum: o.accum ?? 1,
      keepCheckpoints: o.keepCheckpoints ?? 1,
    };
    for (const [k, v] of Object.entries(counts)) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`train: ${k} must be a positive integer, got ${v}`);
    }
    if (o.seqLen > c.maxSeqLen)
      throw new Error(`train: seqLen ${o.seqLen} exceeds the model's maxSeqLen ${c.maxSeqLen}`);
    const lr = o.lr ?? 3e-3;
    const evalBlock =
      o.evalBlock ??
      (topology === 'block_diff' ? Math.max(...blockSizes.filter((b) => o.seqLen % b === 0), 1) : o.seqLen);
    this.opts = {
      steps: o.steps,
      batch: o.batch,
      seqLen: o.seqLen,
      accum: o.accum ?? 1,
      lr,
      minLr: o.minLr ?? lr / 10,
      warmup: o.warmup ?? Math.min(100, Math.floor(o.steps / 10)),
      weightDecay: o.weightDecay ?? 0.1,
      beta1: o.beta1 ?? 0.9,
      beta2: o.beta2 ?? 0.95,
      adamEps: o.adamEps ?? 1e-8,
      clip: o.clip ?? 1,
      topology,
      blockSizes,
      editStart: o.editStart ?? 0.8,
      editWeight: o.editWeight ?? 1,
      alphaMax: o.alphaMax ?? 0.1,
      // Block diffusion: BD3-LM's clipped window (techniques §2.3, §9) — bounded 1/t weights,
      // far lower gradient variance than U[0,1] on small models.
      schedule: o.schedule ?? (topology === 'block_diff' ? { clipped: [0.3, 0.8] } : undefined),
      evalEvery: o.evalEvery ?? 0,
      evalBatches: o.evalBatches ?? 4,
      evalBlock,
      checkpointEvery: o.checkpointEvery ?? 0,
      keepCheckpoints: o.keepCheckpoints ?? DEFAULT_KEEP,
      outDir: o.outDir,
      seed: o.seed ?? 0,
      tokenizerJson: o.tokenizerJson,
    };
    this.curriculum = new Curriculum({ editStart: this.opts.editStart, editWeight: this.opts.editWeight });
    this.rng = new Rng(this.opts.seed);
    this.train = new WindowSampler(data.train, o.seqLen, this.opts.seed);
    this.dataId = dataFingerprint(data.train);
    this.valid =
      data.valid && data.valid.length >= o.seqLen ? new WindowSampler(data.valid, o.seqLen, this.opts.seed) : null;
    const b = model.backend;
    const total = paramLayout(c).total;
    this.grads = b.f32(total);
    this.m = b.f32(total);
    this.v = b.f32(total);
    const T = topology === 'block_diff' ? 2 * o.seqLen : o.seqLen;
    this.graph = new TrainGraph(b, c, o.batch, T, o.batch * o.seqLen);
    // Training updates the float32 parameters: a 16-bit inference copy would go stale.
    model.dropHalfWeights();
    this.pv = model.views;
    this.gv = paramViews(c, this.grads);
    // Edits insert/substitute tokens drawn from the training unigram, never special tokens.
    this.forbid = [...new Set([c.maskTokenId, c.padTokenId, c.eosTokenId])];
    this.unigram = new Float64Array(c.vocabSize);
    for (let i = 0; i < data.train.length; i++) this.unigram[data.train[i]]++;
  }

  /** Frees the trainer's backend memory (gradients, Adam moments, the training graph); the model is the caller's. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.graph.dispose();
    for (const t of [this.grads, this.m, this.v]) this.model.backend.free(t);
  }
  private disposed = false;

  /** One optimiser step (accum micro-batches). */
  trainStep(): StepResult {
    const t0 = performance.now();
    const { opts: o, model } = this;
    const b = model.backend;
    const c = model.config;
    zero(this.grads);
    const terms = this.curriculum.at(this.step, o.steps);
    let loss = 0;
    let block = 0;
    for (let a = 0; a < o.accum; a++) {
      const x0 = this.train.next(o.batch);
      block = o.topology === 'block_diff' ? o.blockSizes[this.rng.int(o.blockSizes.length)] : o.seqLen;
      const built = buildTrainBatch(c, x0, o.batch, o.seqLen, this.rng, {
        topology: o.topology,
        block,
        terms,
        forbid: this.forbid,
        unigram: this.unigram,
        alphaMax: o.alphaMax,
        schedule: o.schedule,
      });
      loss += this.graph.run(this.pv, built.batch, this.gv).loss / o.accum;
    }
    const total = this.grads.length;
    const gradNorm = Math.sqrt(b.sumsq(this.grads, total)) / o.accum;
    if (!Number.isFinite(gradNorm) || !Number.isFinite(loss)) {
      throw new Error(`train: non-finite loss ${loss} or gradient norm ${gradNorm} at step ${this.step}`);
    }
    const clipScale = o.clip > 0 && gradNorm > o.clip ? o.clip / gradNorm : 1;
    const lr = lrAt(this.step, { lr: o.lr, minLr: o.minLr, warmup: o.warmup, totalSteps: o.steps });
    for (const s of paramLayout(c).specs) {
      b.adamw(
        model.params.slice(s.offset, s.size),
        this.grads.slice(s.offset, s.size),
        this.m.slice(s.offset, s.size),
        this.v.slice(s.offset, s.size),
        s.size,
        {
          lr,
          beta1: o.beta1,
          beta2: o.beta2,
          eps: o.adamEps,
          weightDecay: s.decay ? o.weightDecay : 0,
          gradScale: clipScale / o.accum,
          step: this.step + 1,
        },
      );
    }
    this.step++;
    this.tokens += o.batch * o.seqLen * o.accum;
    const seconds = (performance.now() - t0) / 1000;
    this.elapsedSec += seconds;
    return { step: this.step, loss, gradNorm, lr, block, stage: terms.stage, seconds };
  }

  /** Held-out masked ELBO in bits per token (exact-k estimator, fixed windows and masks). */
  evaluate(batches = this.opts.evalBatches): number {
    if (!this.valid) throw new Error('evaluate: no validation tokens were given');
    const o = this.opts;
    const rng = new Rng(o.seed + 7919);
    let nats = 0;
    for (let i = 0; i < batches; i++) {
      const x0 = this.valid.fixed(i * o.batch, o.batch);
      const batch = buildEvalBatch(this.model.config, x0, o.batch, o.seqLen, rng, o.topology, o.evalBlock);
      nats += this.graph.run(this.pv, batch, null).loss;
    }
    return nats / batches / Math.LN2;
  }

  /** Runs to opts.steps with evaluation, checkpoints, log and plot; returns the last eval (if any). */
  run(onProgress?: (p: TrainProgress) => void): { step: number; loss: number; evalBitsPerToken?: number } {
    const o = this.opts;
    const log = o.outDir ? path.join(o.outDir, 'train_log.jsonl') : null;
    if (o.outDir) fs.mkdirSync(o.outDir, { recursive: true });
    let last: StepResult | null = null;
    let evalBpt: number | undefined;
    while (this.step < o.steps) {
      last = this.trainStep();
      const rate = (o.batch * o.seqLen * o.accum) / Math.max(last.seconds, 1e-9);
      this.rateEma = this.rateEma === 0 ? rate : 0.9 * this.rateEma + 0.1 * rate;
      const isLast = this.step === o.steps;
      let evalNow: number | undefined;
      if (this.valid && ((o.evalEvery > 0 && this.step % o.evalEvery === 0) || isLast)) {
        evalNow = this.evaluate();
        evalBpt = evalNow;
      }
      if (log) {
        const rec = {
          ...last,
          tokens: this.tokens,
          tokensPerSec: rate,
          ...(evalNow !== undefined ? { evalBitsPerToken: evalNow } : {}),
        };
        fs.appendFileSync(log, JSON.stringify(rec) + '\n');
      }
      if (o.outDir && ((o.checkpointEvery > 0 && this.step % o.checkpointEvery === 0) || isLast)) {
        this.saveRunCheckpoint(o.outDir);
        if (log) writePlot(log, path.join(o.outDir, 'training_curves.svg'));
      }
      onProgress?.({
        step: this.step,
        totalSteps: o.steps,
        loss: last.loss,
        lr: last.lr,
        gradNorm: last.gradNorm,
        block: last.block,
        stage: last.stage,
        tokens: this.tokens,
        tokensPerSec: this.rateEma,
        elapsedSec: this.elapsedSec,
        etaSec: ((o.steps - this.step) * o.batch * o.seqLen * o.accum) / Math.max(this.rateEma, 1e-9),
        evalBitsPerToken: evalNow,
      });
    }
    return { step: this.step, loss: last?.loss ?? NaN, evalBitsPerToken: evalBpt };
  }

  /** The files of a checkpoint: weights (HF layout), Adam moments and trainer state. */
  private writeCheckpointFiles(dir: string): void {
    const meta = { step: String(this.step) };
    // The step goes into the weights' metadata so a state/weights mismatch is caught on resume.
    saveModel(this.model, dir, { tokenizerJson: this.opts.tokenizerJson, metadata: meta });
    saveSafetensorsSet(
      dir,
      [
        { name: 'adam.m', shape: [this.m.length], data: this.m.toArray() as Float32Array },
        { name: 'adam.v', shape: [this.v.length], data: this.v.toArray() as Float32Array },
      ],
      { base: 'optimizer', metadata: meta },
    );
    const { tokenizerJson: _t, ...options } = this.opts;
    const state: TrainerState = {
      version: 1,
      step: this.step,
      rng: this.rng.state(),
      cursor: { ...this.train.cursor },
      tokens: this.tokens,
      elapsedSec: this.elapsedSec,
      data: this.dataId,
      options,
    };
    writeFileAtomic(path.join(dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  }

  /**
   * Writes a checkpoint directory as one unit (temporary name, fsync, manifest last, rename):
   * `dir` holds either the previous complete checkpoint or this one, never a mixture.
   */
  saveCheckpoint(dir: string): void {
    commitCheckpointDir(dir, this.step, (tmp) => this.writeCheckpointFiles(tmp));
  }

  /**
   * A run's checkpoint: outDir/checkpoints/step-NNNNNNNN/ (committed as one unit), the
   * outDir/checkpoint link moved to it, the oldest beyond keepCheckpoints removed.
   */
  saveRunCheckpoint(outDir: string): string {
    return saveRunCheckpoint(outDir, this.step, (tmp) => this.writeCheckpointFiles(tmp), this.opts.keepCheckpoints);
  }

  /**
   * Resumes a run folder from its newest complete checkpoint (manifest and hashes verified);
   * `from` says which one and `skipped` the newer ones that were incomplete, and why.
   */
  static resumeLatest(
    outDir: string,
    data: { train: Int32Array; valid?: Int32Array },
    overrides: Partial<TrainOptions> = {},
  ): { trainer: Trainer; from: string; skipped: { dir: string; reason: string }[] } {
    const latest = latestCheckpoint(outDir);
    return { trainer: Trainer.resume(latest.dir, data, overrides), from: latest.dir, skipped: latest.skipped };
  }

  /**
   * Continues a run from a checkpoint folder: weights, Adam moments, step, RNG state and data
   * cursor. With the same data this is bit-identical to never having stopped (CPU, same threads).
   * `overrides` may change options that do not affect the numbers (outDir, eval/checkpoint cadence).
   */
  static resume(
    dir: string,
    data: { train: Int32Array; valid?: Int32Array },
    overrides: Partial<TrainOptions> = {},
  ): Trainer {
    const file = path.join(dir, STATE_FILE);
    if (!fs.existsSync(file)) throw new Error(`${dir}: no ${STATE_FILE} (not a training checkpoint)`);
    // A checkpoint with a manifest must verify (every file present, sizes and hashes); one without
    // (the layout before manifests) still has its weights/state steps cross-checked below.
    const check = verifyCheckpoint(dir);
    if (!check.ok && fs.existsSync(path.join(dir, 'manifest.json'))) throw new Error(`${dir}: ${check.reason}`);
    let state: TrainerState;
    try {
      state = JSON.parse(fs.readFileSync(file, 'utf8')) as TrainerState;
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`, { cause: e });
    }
    if (state.version !== 1) {
      throw new Error(`${file}: trainer state version ${JSON.stringify(state.version)}; this build reads version 1`);
    }
    if (check.ok && check.step !== state.step) {
      throw new Error(`${dir}: the manifest is for step ${check.step}, ${STATE_FILE} for step ${state.step}`);
    }
    const model = Model.load(dir, undefined, { verifyManifest: false });
    const wStep = readStepMeta(dir, 'model');
    if (wStep !== state.step)
      throw new Error(`${dir}: model.safetensors is from step ${wStep}, ${STATE_FILE} from step ${state.step}`);
    const tok = path.join(dir, 'tokenizer.json');
    const t = new Trainer(model, data, {
      ...state.options,
      tokenizerJson: fs.existsSync(tok) ? fs.readFileSync(tok, 'utf8') : undefined,
      ...overrides,
    });
    if (state.data !== t.dataId) {
      throw new Error(`${dir}: the training data (${t.dataId}) differs from the checkpoint's (${state.data})`);
    }
    const opt = SafetensorsSet.open(dir, 'optimizer');
    try {
      if (readStepMeta(dir, 'optimizer') !== state.step)
        throw new Error(`${dir}: optimizer.safetensors is not from step ${state.step}`);
      opt.readInto('adam.m', t.m.data as Float32Array);
      opt.readInto('adam.v', t.v.data as Float32Array);
    } finally {
      opt.close();
    }
    t.step = state.step;
    t.tokens = state.tokens;
    t.elapsedSec = state.elapsedSec;
    t.rng = Rng.fromState(state.rng);
    t.train.cursor = { ...state.cursor };
    return t;
  }
}

function readStepMeta(dir: string, base: string): number | null {
  const f = SafetensorsFile.open(path.join(dir, `${base}.safetensors`));
  try {
    return f.metadata.step === undefined ? null : Number(f.metadata.step);
  } finally {
    f.close();
  }
}

/** Re-draws the SVG from the JSONL log (the last record per step wins, so resumed runs plot cleanly). */
export function writePlot(logFile: string, svgFile: string): void {
  const byStep = new Map<number, { loss: number; evalBitsPerToken?: number }>();
  for (const line of fs.readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line);
      byStep.set(r.step, r);
    } catch {
      // a torn last line from a crash: skip it
    }
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const train: [number, number][] = steps.map((s) => [s, (byStep.get(s) as { loss: number }).loss / Math.LN2]);
  const evals: [number, number][] = steps
    .filter((s) => byStep.get(s)?.evalBitsPerToken !== undefined)
    .map((s) => [s, byStep.get(s)?.evalBitsPerToken as number]);
  const svg = linePlotSvg(
    [
      { name: 'train loss (bits/token)', color: '#1f77b4', points: train },
      { name: 'held-out ELBO (bits/token)', color: '#d62728', points: evals },
    ],
    { title: 'seed-diffusion training', xLabel: 'step', yLabel: 'bits per token' },
  );
  writeFileAtomic(svgFile, svg);
}
