import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { Command, InvalidArgumentError, Option } from 'commander';

import type { Model } from '@seed-diffusion/model';
import type { DecodeEvent, DecodeStats, SamplerOptions } from '@seed-diffusion/sampler';
import type { Tokenizer } from '@seed-diffusion/tokenizer';

// The model, sampler and tokenizer load only when the command runs, so `info` stays fast and
// independent of them.
const lazy = {
  model: () => require('@seed-diffusion/model') as typeof import('@seed-diffusion/model'),
  sampler: () => require('@seed-diffusion/sampler') as typeof import('@seed-diffusion/sampler'),
  tokenizer: () => require('@seed-diffusion/tokenizer') as typeof import('@seed-diffusion/tokenizer'),
};

/** The embedded default model at the repository root (dist/commands → packages/cli → repo). */
export const DEFAULT_MODEL_DIR = path.join(__dirname, '../../../../models/seed-diffusion-tiny');

interface GenerateFlags {
  model: string;
  trustWeights?: boolean;
  block?: number;
  policy?: SamplerOptions['policy'];
  threshold?: number;
  factor?: number;
  steps?: number;
  confidence?: SamplerOptions['confidence'];
  maxNewTokens: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  mode?: SamplerOptions['mode'];
  draftRows?: number;
  selfCorrect?: boolean;
  editThreshold?: number;
  maxPostSteps?: number;
  fuseCommit?: boolean;
  eosStop: boolean;
  suppressEos?: boolean;
  stop: string[];
  showSteps?: boolean;
  json?: boolean;
  record?: string;
}

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}.`);
    return n;
  };
}
function real(name: string, lo: number, hi: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi)
      throw new InvalidArgumentError(`${name} must be a number in [${lo}, ${hi}].`);
    return n;
  };
}
const collect = (v: string, acc: string[]) => [...acc, v];

/** Loads the model and its tokenizer.json from a folder, with an error that says how to get one. */
export function loadModelDir(
  dir: string,
  opts: { trustWeights?: boolean } = {},
): { model: Model; tokenizer: Tokenizer } {
  const cfg = path.join(dir, 'config.json');
  if (!existsSync(cfg)) {
    const embedded = path.resolve(dir) === path.resolve(DEFAULT_MODEL_DIR);
    throw new Error(
      `no model at ${path.resolve(dir)} (config.json missing). ` +
        (embedded
          ? 'The embedded model models/seed-diffusion-tiny has not been trained yet: train one with ' +
            '`seed-diffusion train` (it writes config.json, model.safetensors and tokenizer.json to a folder) and pass --model DIR.'
          : 'Pass --model with a folder holding config.json, model.safetensors and tokenizer.json (as `seed-diffusion train` writes).'),
    );
  }
  const tok = path.join(dir, 'tokenizer.json');
  if (!existsSync(tok)) throw new Error(`the model folder ${path.resolve(dir)} has no tokenizer.json`);
  const m = lazy.model();
  const model = m.Model.load(dir, undefined, { checkFinite: !opts.trustWeights });
  let tokenizer: Tokenizer;
  try {
    tokenizer = lazy.tokenizer().Tokenizer.load(tok);
    m.checkTokenizerFits(model.config, tokenizer, dir);
  } catch (e) {
    model.dispose();
    throw e;
  }
  // Inference only: a checkpoint saved in f16/bf16 decodes through an exact 16-bit copy of its
  // matrices (the same tokens, half the weight bytes per forward); float32 ones stay as they are.
  model.useHalfWeights();
  return { model, tokenizer };
}

export function formatStats(s: DecodeStats): string {
  const f = (x: number, d = 2) => x.toFixed(d);
  return (
    `${s.generatedTokens} tokens in ${f(s.wallSeconds)} s (${f(s.tokensPerSecond, 1)} tok/s), ` +
    `${s.forwards} forwards (${f(s.tokensPerForward)} tokens/forward; ${s.stepForwards} steps, ` +
    `${s.commitForwards} commits, ${s.fusedCommits} fused), ${s.blocks} blocks of ${s.blockSize}, ` +
    `mode ${s.mode}, prompt ${s.promptTokens} tokens (prefill ${f(s.prefillSeconds * 1000, 1)} ms), ` +
    `${s.edits} edits, ` +
    (s.mode === 'verify' ? `${s.accepted}/${s.drafted} guesses confirmed, ` : '') +
    `stopped: ${s.stopReason}`
  );
}

/** `seed-diffusion generate "prompt"`: block-parallel diffusion decoding, streamed as blocks commit. */
export function generateCommand(): Command {
  return (
    new Command('generate')
      .description('continue a prompt with block-parallel diffusion decoding (streams text as blocks commit)')
      // Usage errors reach main() (exit 2) like the program's own, instead of commander exiting with 1.
      .exitOverride()
      .argument('<prompt>', 'the text to continue ("-" reads it from stdin)')
      .option('--model <dir>', 'model folder (config.json, model.safetensors, tokenizer.json)', DEFAULT_MODEL_DIR)
      .option('--trust-weights', 'skip the NaN/Inf scan of the weights at load (trusted large files)')
      .option('--block <n>', 'tokens per block (default 32; 1 = autoregressive)', int('--block', 1))
      .addOption(
        new Option('--policy <name>', 'commit policy (default threshold)').choices(['threshold', 'fixed', 'factor']),
      )
      .option(
        '--threshold <tau>',
        'threshold policy: commit confidence >= tau (default 0.9)',
        real('--threshold', 0, 1),
      )
      .option('--factor <f>', 'factor policy: largest n with (n+1)(1-c_n) < f (default 1)', real('--factor', 1e-9, 1e9))
      .option('--steps <n>', 'fixed policy: steps per block (default: one token per step)', int('--steps', 1))
      .addOption(
        new Option('--confidence <kind>', 'how positions are ranked (default prob)').choices([
          'prob',
          'margin',
          'entropy',
        ]),
      )
      .option('--max-new-tokens <n>', 'tokens to generate at most', int('--max-new-tokens', 1), 256)
      .option('--temperature <t>', 'sampling temperature (0 = greedy)', real('--temperature', 0, 1e6))
      .option('--top-k <k>', 'sample among the k most likely tokens (0 = off)', int('--top-k', 0))
      .option('--top-p <p>', 'nucleus sampling mass (1 = off)', real('--top-p', 1e-9, 1))
      .option('--seed <n>', 'seed of the sampling uniforms', int('--seed', 0))
      .addOption(
        new Option(
          '--mode <mode>',
          'cache (default), nocache (recompute all), ar (one token per forward), ' +
            'verify (up to --block tokens per forward, checked against ar in the same forward: its exact output, greedy or sampled with the same --seed; --block default 32)',
        ).choices(['cache', 'nocache', 'ar', 'verify']),
      )
      .option('--self-correct', 'rewrite committed tokens of the block the model is sure are wrong (LLaDA2.1 T2T)')
      .option(
        '--edit-threshold <p>',
        'self-correction: rewrite when the new token has probability > p (default 0.9)',
        real('--edit-threshold', 0, 1),
      )
      .option(
        '--max-post-steps <n>',
        'self-correction: steps after a block is full (default 8)',
        int('--max-post-steps', 0),
      )
      .option(
        '--draft-rows <n>',
        'verify mode: rows of a diffusion draft block per forward, a guess source past the confirmed tokens (default 0)',
        int('--draft-rows', 0),
      )
      .option('--fuse-commit', "append a final block's K/V inside the next block's first forward")
      .option('--no-eos-stop', 'keep generating past an end-of-text token')
      .option('--suppress-eos', 'never predict the end-of-text token')
      .option('--stop <str>', 'stop at this text (repeatable)', collect, [])
      .option('--show-steps', 'draw the denoising of each block live (stderr stats at the end)')
      .option('--json', 'print one JSON object (text, tokens, stats) instead of streaming')
      .option('--record <file>', 'write the decoding trajectory (every block state) as JSON')
      .action(async (promptArg: string, flags: GenerateFlags) => {
        const prompt = promptArg === '-' ? readFileSync(0, 'utf8') : promptArg;
        if (prompt.length === 0) throw new Error('the prompt is empty: give text to continue from');
        const { model, tokenizer } = loadModelDir(flags.model, { trustWeights: flags.trustWeights });
        const { streamText, TerminalView, TrajectoryRecorder } = lazy.sampler();
        const options: Partial<SamplerOptions> = {
          mode: flags.mode,
          blockSize: flags.block,
          policy: flags.policy,
          threshold: flags.threshold,
          factor: flags.factor,
          steps: flags.steps,
          confidence: flags.confidence,
          maxNewTokens: flags.maxNewTokens,
          temperature: flags.temperature,
          topK: flags.topK,
          topP: flags.topP,
          seed: flags.seed,
          selfCorrect: flags.selfCorrect,
          editThreshold: flags.editThreshold,
          maxPostSteps: flags.maxPostSteps,
          fuseCommit: flags.fuseCommit,
          draftRows: flags.draftRows,
          stopAtEos: flags.eosStop,
          suppressEos: flags.suppressEos,
        };
        const listeners: ((e: DecodeEvent) => void)[] = [];
        const recorder = flags.record
          ? new TrajectoryRecorder(model.config.maskTokenId, tokenizer.encode(prompt))
          : null;
        if (recorder) listeners.push(recorder.listener);
        const out = process.stdout;
        const view =
          flags.showSteps && !flags.json
            ? new TerminalView(out.isTTY ? out : process.stderr, {
                maskId: model.config.maskTokenId,
                decodeToken: (id) => tokenizer.decode([id]),
                color: Boolean(out.isTTY),
              })
            : null;
        if (view) listeners.push(view.listener);
        const it = streamText(model, tokenizer, prompt, {
          ...options,
          stop: flags.stop,
          onEvent: (e) => listeners.forEach((l) => l(e)),
        });
        let r = await it.next();
        while (!r.done) {
          if (!flags.json) {
            out.write(r.value);
            if (view && out.isTTY) view.printed(r.value);
          }
          r = await it.next();
        }
        const result = r.value;
        if (recorder) recorder.save(flags.record as string);
        if (flags.json) {
          out.write(
            `${JSON.stringify({ text: result.text, tokens: Array.from(result.tokens), stats: result.stats })}\n`,
          );
          return;
        }
        if (out.isTTY && !result.text.endsWith('\n')) out.write('\n');
        process.stderr.write(`${formatStats(result.stats)}\n`);
      })
  );
}
