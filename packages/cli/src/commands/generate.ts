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

/** The package that holds the default model (in this repository: models/seed-diffusion-tiny). */
export const DEFAULT_MODEL_PACKAGE = '@seed-diffusion/models-tiny';

/**
 * The default model's folder, from the installed @seed-diffusion/models-tiny package; null when
 * that package is not installed (then --model is needed, and loadModelDir says so).
 */
export function defaultModelDir(): string | null {
  try {
    return (require(DEFAULT_MODEL_PACKAGE) as { modelDir: string }).modelDir;
  } catch {
    return null;
  }
}

/** What --model defaults to: the models package's folder, or a marker that names it. */
const NO_DEFAULT_MODEL = `(${DEFAULT_MODEL_PACKAGE}, not installed)`;
export const DEFAULT_MODEL_DIR = defaultModelDir() ?? NO_DEFAULT_MODEL;

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
  if (dir === NO_DEFAULT_MODEL) {
    throw new Error(
      `no model: the default model comes from the package ${DEFAULT_MODEL_PACKAGE}, which is not installed. ` +
        `Install it (npm install ${DEFAULT_MODEL_PACKAGE}), or pass --model DIR with a folder holding ` +
        'config.json, model.safetensors and tokenizer.json (as `seed-diffusion train` writes).',
    );
  }
  const cfg = path.join(dir, 'config.json');
  if (!existsSync(cfg)) {
    throw new Error(
      `no model at ${path.resolve(dir)} (config.json missing). Pass --model with a folder holding config.json, ` +
        'model.safetensors and tokenizer.json (as `seed-diffusion train` writes), or leave --model out to use ' +
        `the default model from ${DEFAULT_MODEL_PACKAGE}.`,
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

/**
 * The prompt: the argument, or stdin for "-". Bytes from stdin must be valid UTF-8 (an error
 * names the first bad byte's offset). The shell hands arguments to Node already decoded, with
 * invalid bytes replaced by U+FFFD; such a prompt is used as it is, with a warning.
 */
export function readPrompt(arg: string, stdin: () => Buffer = () => readFileSync(0)): string {
  if (arg === '-') {
    const bytes = stdin();
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      throw new Error(
        `the prompt on stdin is not valid UTF-8: byte ${at} (0x${bytes[at].toString(16).padStart(2, '0')}) ` +
          'begins no valid UTF-8 sequence; convert the text to UTF-8 (e.g. iconv -f latin1 -t utf-8)',
      );
    }
  }
  if (arg.includes('\uFFFD')) {
    process.stderr.write(
      'seed-diffusion: warning: the prompt holds U+FFFD replacement characters (invalid UTF-8 in the ' +
        'argument is replaced by them); they are encoded as given\n',
    );
  }
  return arg;
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0 || i + n > b.length) return i;
    try {
      dec.decode(b.subarray(i, i + n));
    } catch {
      return i;
    }
    i += n;
  }
  return b.length;
}

/**
 * A diffusion decode (cache / nocache) with a block size the model was not trained on works,
 * but its quality is unknown; say so, naming the sizes it was trained with.
 */
export function untrainedBlockWarning(o: SamplerOptions, trained: readonly number[]): string | null {
  if (o.mode !== 'cache' && o.mode !== 'nocache') return null;
  if (trained.length === 0 || trained.includes(o.blockSize)) return null;
  return (
    `block size ${o.blockSize} was not among the sizes this model was trained with ` +
    `(${trained.join(', ')}; config.json trained_block_sizes): expect worse text, or pass --block ` +
    `${trained.reduce((a, b) => (Math.abs(b - o.blockSize) < Math.abs(a - o.blockSize) ? b : a))}`
  );
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
      .argument(
        '<prompt>',
        'the text to continue ("-" reads UTF-8 from stdin; invalid UTF-8 there is an error, and in an argument it arrives as U+FFFD)',
      )
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
        const prompt = readPrompt(promptArg);
        if (prompt.length === 0) throw new Error('the prompt is empty: give text to continue from');
        const { model, tokenizer } = loadModelDir(flags.model, { trustWeights: flags.trustWeights });
        const { streamText, TerminalView, TrajectoryRecorder, resolveOptions } = lazy.sampler();
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
        const warning = untrainedBlockWarning(resolveOptions(options), model.config.trainedBlockSizes);
        if (warning) process.stderr.write(`seed-diffusion: warning: ${warning}\n`);
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
        // the text ends its own line, so the stats (stderr) never run into it, piped or not
        if (!result.text.endsWith('\n')) out.write('\n');
        process.stderr.write(`${formatStats(result.stats)}\n`);
      })
  );
}
