import * as fs from 'node:fs';
import * as path from 'node:path';

import { Command } from 'commander';
import { SingleBar } from 'cli-progress';

import { backend } from '@seed-diffusion/native';
import type { DatasetMeta, ModelConfigInput, TrainOptions } from '@seed-diffusion/model';
import { Model, PRESETS, Trainer, makeConfig, openDataset, parameterCount } from '@seed-diffusion/model';

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return x;
};
const real = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0) throw new Error(`--${name} must be a non-negative number, got ${v}`);
  return x;
};

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(sec).padStart(2, '0')}s`;
}

/** `seed-diffusion train`: trains a diffusion code model on token shards with the two-stage curriculum. */
export function trainCommand(): Command {
  return new Command('train')
    .description('train a diffusion code model (block diffusion, mask then mask + edit curriculum) on token shards')
    .requiredOption('--data <dir>', 'dataset folder from `seed-diffusion data build`')
    .requiredOption('--out <dir>', 'run folder: checkpoint/, train_log.jsonl, training_curves.svg')
    .option(
      '--config <name|file>',
      `model preset (${Object.keys(PRESETS).join(', ')}) or a JSON file of config fields`,
      'small',
    )
    .option('--steps <n>', 'optimiser steps', '2000')
    .option('--batch <n>', 'sequences per micro-batch', '8')
    .option('--seq <n>', 'sequence length (tokens)', '256')
    .option('--accum <n>', 'micro-batches per step', '1')
    .option('--lr <x>', 'peak learning rate', '3e-3')
    .option('--min-lr <x>', 'final learning rate (default lr/10)')
    .option('--warmup <n>', 'warmup steps (default min(100, steps/10))')
    .option('--weight-decay <x>', 'AdamW weight decay', '0.1')
    .option('--clip <x>', 'global gradient-norm clip (0: off)', '1')
    .option('--topology <t>', 'block_diff (BD3-LM, exact KV-cached decoding) or bidir (paper-style)', 'block_diff')
    .option('--block-sizes <list>', 'block sizes drawn per batch', '1,4,8,16,32')
    .option('--edit-start <f>', 'fraction of steps before the edit term joins', '0.8')
    .option('--eval-every <n>', 'evaluate the held-out ELBO every N steps', '200')
    .option('--eval-batches <n>', 'batches per evaluation', '4')
    .option('--checkpoint-every <n>', 'checkpoint every N steps', '200')
    .option('--keep-checkpoints <n>', 'checkpoints kept in <out>/checkpoints (newest first)', '3')
    .option('--threads <n>', 'CPU threads for the kernels')
    .option('--seed <n>', 'random seed', '0')
    .option(
      '--init <dir>',
      'start from the weights of a model folder or checkpoint (fine-tune: its config, fresh optimiser and schedule)',
    )
    .option('--resume', 'continue from <out>/checkpoint (same data; bit-identical on CPU)')
    .option(
      '--extend-to <n>',
      'with --resume: train on to N steps in all; the LR schedule and the curriculum are recomputed for the new length',
    )
    .action((o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const s = (k: string) => o[k] as string | undefined;
      const b = backend();
      if (o.threads !== undefined) b.numThreads = int('threads', s('threads')) as number;
      const ds = openDataset(s('data') as string);
      const out = s('out') as string;
      const ckpt = path.join(out, 'checkpoint');
      const cadence: Partial<TrainOptions> = {
        outDir: out,
        evalEvery: int('eval-every', s('evalEvery')),
        evalBatches: int('eval-batches', s('evalBatches')),
        checkpointEvery: int('checkpoint-every', s('checkpointEvery')),
        keepCheckpoints: int('keep-checkpoints', s('keepCheckpoints')),
      };
      let trainer: Trainer;
      if (o.init !== undefined && (o.resume || cmd.getOptionValueSource('config') === 'cli')) {
        throw new Error(
          `--init ${o.init}: the model folder's config is used, so it cannot be combined with ${o.resume ? '--resume' : '--config'}`,
        );
      }
      if (o.resume) {
        if (!fs.existsSync(out)) throw new Error(`--resume: ${out} does not exist`);
        const extendTo = int('extend-to', s('extendTo'));
        if (extendTo !== undefined) cadence.steps = extendTo;
        // The newest checkpoint whose manifest verifies; newer incomplete ones are named and skipped.
        const r = Trainer.resumeLatest(out, { train: ds.train, valid: ds.valid }, cadence);
        for (const sk of r.skipped) console.log(`skipping ${sk.dir}: ${sk.reason}`);
        trainer = r.trainer;
        if (trainer.step >= trainer.opts.steps) {
          throw new Error(
            `--resume: the checkpoint is at step ${trainer.step} of ${trainer.opts.steps}; pass --extend-to N > ${trainer.step} to train on`,
          );
        }
        console.log(`resuming from ${r.from} at step ${trainer.step}/${trainer.opts.steps}`);
      } else {
        const seq = int('seq', s('seq')) as number;
        const blockSizes = (s('blockSizes') as string).split(',').map((x) => int('block-sizes', x.trim()) as number);
        const seed = int('seed', s('seed')) as number;
        const model =
          o.init !== undefined ? initFrom(s('init') as string, ds.meta, seq) : Model.init(newConfig(), seed, b);
        function newConfig() {
          const name = s('config') as string;
          let fields: Partial<ModelConfigInput>;
          if (PRESETS[name]) fields = PRESETS[name];
          else if (fs.existsSync(name)) fields = JSON.parse(fs.readFileSync(name, 'utf8'));
          else throw new Error(`--config: ${name} is neither a preset (${Object.keys(PRESETS).join(', ')}) nor a file`);
          return makeConfig({
            ...(fields as ModelConfigInput),
            maxSeqLen: Math.max(seq, fields.maxSeqLen ?? 0),
            vocabSize: ds.meta.vocabSize,
            maskTokenId: ds.meta.maskTokenId,
            eosTokenId: ds.meta.eosTokenId,
            padTokenId: ds.meta.padTokenId,
            attentionTopology: s('topology') as 'block_diff' | 'bidir',
            trainedBlockSizes: blockSizes,
          });
        }
        trainer = new Trainer(
          model,
          { train: ds.train, valid: ds.valid },
          {
            ...cadence,
            steps: int('steps', s('steps')) as number,
            batch: int('batch', s('batch')) as number,
            seqLen: seq,
            accum: int('accum', s('accum')),
            lr: real('lr', s('lr')),
            minLr: real('min-lr', s('minLr')),
            warmup: int('warmup', s('warmup')),
            weightDecay: real('weight-decay', s('weightDecay')),
            clip: real('clip', s('clip')),
            topology: s('topology') as 'block_diff' | 'bidir',
            blockSizes,
            editStart: real('edit-start', s('editStart')),
            seed,
            tokenizerJson: ds.tokenizerJson,
          },
        );
        const c = model.config;
        console.log(
          `model: ${(parameterCount(c) / 1e6).toFixed(2)}M parameters (d ${c.hiddenSize}, ${c.numLayers} layers, ` +
            `${c.numHeads}/${c.numKvHeads} heads, vocab ${c.vocabSize}, context ${c.maxSeqLen}); ` +
            `data: ${ds.train.length} train / ${ds.valid.length} validation tokens; ${b.name} backend, ${b.numThreads} threads`,
        );
      }
      if (trainer.valid === null) {
        // The trainer skips evaluation without a full validation window; say so before hours of training.
        process.stderr.write(
          `seed-diffusion: warning: ${s('data')} has ${ds.valid.length} validation tokens, fewer than one ` +
            `window of ${trainer.opts.seqLen}: no held-out loss will be measured or plotted. Rebuild the data with ` +
            'a larger --valid-fraction (seed-diffusion data build), or a shorter --seq.\n',
        );
      }
      const bar = new SingleBar({
        format:
          'train |{bar}| {value}/{total} steps | loss {loss} | eval {evalb} bits/tok | blk {blk} | {tps} tok/s | elapsed {elapsed} | ETA {eta_s}',
        hideCursor: true,
        // Logs (no TTY): a progress line every 10 s instead of nothing.
        noTTYOutput: true,
        notTTYSchedule: 10000,
      });
      let lastEval = '-';
      bar.start(trainer.opts.steps, trainer.step, {
        loss: '-',
        evalb: '-',
        blk: '-',
        tps: '-',
        elapsed: '-',
        eta_s: '-',
      });
      const res = trainer.run((p) => {
        if (p.evalBitsPerToken !== undefined) lastEval = p.evalBitsPerToken.toFixed(3);
        bar.update(p.step, {
          loss: p.loss.toFixed(3),
          evalb: lastEval,
          blk: p.block,
          tps: Math.round(p.tokensPerSec),
          elapsed: fmtTime(p.elapsedSec),
          eta_s: fmtTime(p.etaSec),
        });
      });
      bar.stop();
      if (Number.isNaN(res.loss)) {
        console.log(`nothing to do: the run already reached step ${res.step}; checkpoint ${ckpt}`);
        return;
      }
      console.log(
        `done: step ${res.step}, loss ${res.loss.toFixed(4)}` +
          (res.evalBitsPerToken !== undefined ? `, held-out ELBO ${res.evalBitsPerToken.toFixed(4)} bits/token` : '') +
          `; checkpoint ${ckpt}; curves ${path.join(out, 'training_curves.svg')}`,
      );
    });
}

/**
 * Loads the weights to fine-tune from a model folder or a run's checkpoint/, checking that they fit
 * the dataset (same vocabulary and special ids) and the sequence length.
 */
function initFrom(dir: string, meta: DatasetMeta, seq: number): Model {
  if (!fs.existsSync(path.join(dir, 'config.json'))) {
    throw new Error(`--init ${dir}: no config.json there (give a model folder or a run's checkpoint/)`);
  }
  const model = Model.load(dir);
  const c = model.config;
  const ids: [string, number, number][] = [
    ['vocabSize', c.vocabSize, meta.vocabSize],
    ['maskTokenId', c.maskTokenId, meta.maskTokenId],
    ['eosTokenId', c.eosTokenId, meta.eosTokenId],
    ['padTokenId', c.padTokenId, meta.padTokenId],
  ];
  for (const [field, got, want] of ids) {
    if (got !== want)
      throw new Error(`--init ${dir}: ${field} is ${got} but the dataset's is ${want} (another tokenizer)`);
  }
  if (seq > c.maxSeqLen) throw new Error(`--init ${dir}: --seq ${seq} exceeds the model's context of ${c.maxSeqLen}`);
  return model;
}
