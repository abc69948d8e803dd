import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';

import { Tokenizer, type TrainPhase } from '@seed-diffusion/tokenizer';

/** The default corpus: this machine's Python standard library. */
const DEFAULT_CORPUS = '/usr/lib/python3.11';

/** Every file under dir whose name ends with one of exts, in sorted (deterministic) order. */
function listFiles(dir: string, exts: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && exts.some((e) => name.endsWith(e))) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

interface TrainOpts {
  corpus: string;
  vocabSize: number;
  out: string;
  ext: string;
  pattern: 'cl100k' | 'gpt2' | 'qwen2';
  progress: boolean;
}

async function train(opts: TrainOpts): Promise<void> {
  if (!['cl100k', 'gpt2', 'qwen2'].includes(opts.pattern))
    throw new Error(`--pattern must be cl100k, gpt2 or qwen2, got ${opts.pattern}`);
  let st;
  try {
    st = statSync(opts.corpus);
  } catch {
    throw new Error(`--corpus ${opts.corpus}: no such directory`);
  }
  if (!st.isDirectory()) throw new Error(`--corpus ${opts.corpus}: not a directory`);
  const exts = opts.ext.split(',').map((e) => (e.startsWith('.') ? e : `.${e}`));
  const files = listFiles(opts.corpus, exts);
  if (files.length === 0) throw new Error(`--corpus ${opts.corpus}: no ${exts.join('/')} files`);
  const totalBytes = files.reduce((a, f) => a + statSync(f).size, 0);
  console.log(`corpus: ${files.length} files, ${(totalBytes / 1e6).toFixed(1)} MB under ${opts.corpus}`);

  const show = opts.progress;
  let bar: SingleBar | null = null;
  let phase: TrainPhase | null = null;
  const t0 = Date.now();
  const tok = await Tokenizer.trainAsync(files, {
    files: true,
    vocabSize: opts.vocabSize,
    preTokenizer: opts.pattern,
    totalBytes,
    onProgress: (done, total, p) => {
      if (!show) return;
      if (p !== phase) {
        bar?.stop();
        phase = p;
        const unit = p === 'count' ? 'kB' : 'merges';
        bar = new SingleBar({
          format: `${p === 'count' ? 'counting' : 'merging '} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`,
          hideCursor: true,
          stream: process.stderr,
          // piped or in a log: a plain progress line every 10 s instead of nothing
          noTTYOutput: true,
          notTTYSchedule: 10000,
        });
        bar.start(p === 'count' ? Math.max(1, Math.round(total / 1e3)) : total, 0, { rate: '0' });
      }
      const elapsed = Math.max(1e-3, (Date.now() - t0) / 1000);
      const value = p === 'count' ? Math.round(done / 1e3) : done;
      bar?.update(value, { rate: (value / elapsed).toFixed(1) });
    },
  });
  (bar as SingleBar | null)?.stop();
  tok.save(opts.out);
  const secs = (Date.now() - t0) / 1000;
  if (tok.vocabSize < opts.vocabSize)
    console.warn(
      `warning: the corpus ran out of pairs; vocabulary has ${tok.vocabSize} ids, fewer than the ${opts.vocabSize} asked for`,
    );
  console.log(
    `trained ${tok.vocabSize} ids (${tok.vocabSize - 256 - tok.specialTokens.size} merges) in ${secs.toFixed(1)} s -> ${opts.out}`,
  );
}

/** `seed-diffusion tokenizer ...`: train a byte-level BPE tokenizer for code. */
export function tokenizerCommand(): Command {
  const cmd = new Command('tokenizer').description('byte-level BPE tokenizer for code');
  cmd
    .command('train')
    .description('train a byte-level BPE on a directory of source files and write tokenizer.json (Hugging Face format)')
    .option('--corpus <dir>', 'directory of training files', DEFAULT_CORPUS)
    .option('--vocab-size <n>', 'vocabulary size, special tokens included', positiveInt, 16384)
    .option('--out <file>', 'where to write tokenizer.json', 'tokenizer.json')
    .option('--ext <list>', 'file extensions to read, comma separated', '.py')
    .option('--pattern <name>', 'pre-tokenizer split: cl100k, gpt2 or qwen2', 'cl100k')
    .option('--no-progress', 'no progress bar')
    .action((opts: TrainOpts) => train(opts));
  return cmd;
}
