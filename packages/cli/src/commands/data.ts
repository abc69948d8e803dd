import { Command } from 'commander';
import { SingleBar } from 'cli-progress';

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import { buildDataset } from '@seed-diffusion/model';
import { readTasks, trainingText } from '@seed-diffusion/tasks';

/**
 * Documents from task files (`seed-diffusion tasks make`): each task's prompt + solution is one
 * document. A folder gives train.jsonl.gz as train and valid.jsonl.gz as validation (its test split is
 * never read: it is held out for `eval --bench`); a file goes to train.
 */
export function taskDocuments(spec: string): Array<{ text: string; split: 'train' | 'validation' }> {
  const docs: Array<{ text: string; split: 'train' | 'validation' }> = [];
  for (const item of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!existsSync(item)) throw new Error(`--tasks ${item}: no such file or folder`);
    const files: Array<[string, 'train' | 'validation']> = statSync(item).isDirectory()
      ? [
          [path.join(item, 'train.jsonl.gz'), 'train'],
          [path.join(item, 'valid.jsonl.gz'), 'validation'],
        ]
      : [[item, 'train']];
    for (const [f, split] of files) {
      if (!existsSync(f))
        throw new Error(`--tasks ${item}: ${f} is missing (write it with \`seed-diffusion tasks make\`)`);
      for (const t of readTasks(f)) docs.push({ text: trainingText(t), split });
    }
  }
  return docs;
}

/** `seed-diffusion data build`: a folder of code → deduplicated, split, tokenized token shards. */
export function dataCommand(): Command {
  const data = new Command('data').description('build token datasets from code folders');
  data
    .command('build')
    .description('collect code files, deduplicate by content, split train/validation by file, tokenize, write shards')
    .option('--src <dir>', 'folder of code to collect', '/usr/lib/python3.11')
    .option('--out <dir>', 'output folder (shards, meta.json, tokenizer.json)', 'data/stdlib')
    .option('--ext <list>', 'comma-separated file extensions', '.py')
    .option('--tokenizer <file>', 'an existing tokenizer.json (otherwise one is trained)')
    .option('--vocab-size <n>', 'vocabulary size of the trained tokenizer', '8192')
    .option('--tokenizer-sample-mb <n>', 'MB of training text used to train the tokenizer', '4')
    .option('--valid-fraction <f>', 'fraction of files held out for validation', '0.03')
    .option('--max-mb <n>', 'stop collecting after this many MB of unique files')
    .option(
      '--tasks <dir|file,...>',
      'task files from `tasks make` as training text (prompt + solution); a folder: its train and valid splits. ' +
        'With --tasks, --src is read only when given',
    )
    .action((o: Record<string, string | undefined>, cmd: Command) => {
      const num = (name: string, v: string | undefined, int = true): number | undefined => {
        if (v === undefined) return undefined;
        const x = Number(v);
        if (!Number.isFinite(x) || x <= 0 || (int && !Number.isInteger(x))) {
          throw new Error(`--${name} must be a positive ${int ? 'integer' : 'number'}, got ${v}`);
        }
        return x;
      };
      const bar = new SingleBar({
        format: '{phase} |{bar}| {value}/{total} {unit} | {duration_formatted}',
        hideCursor: true,
        // Logs (no TTY): a progress line every 10 s instead of nothing.
        noTTYOutput: true,
        notTTYSchedule: 10000,
        clearOnComplete: false,
      });
      let phase = '';
      const t0 = Date.now();
      const documents = o.tasks !== undefined ? taskDocuments(o.tasks) : undefined;
      const src = documents && cmd.getOptionValueSource('src') !== 'cli' ? undefined : (o.src as string);
      const meta = buildDataset({
        src,
        documents,
        out: o.out as string,
        extensions: (o.ext as string)
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        tokenizerFile: o.tokenizer,
        vocabSize: num('vocab-size', o.vocabSize),
        tokenizerSampleBytes: (num('tokenizer-sample-mb', o.tokenizerSampleMb, false) ?? 4) * 1024 * 1024,
        validFraction: Number(o.validFraction),
        maxBytes: o.maxMb ? (num('max-mb', o.maxMb, false) as number) * 1024 * 1024 : undefined,
        onProgress: (p, done, total) => {
          if (p !== phase) {
            if (phase) bar.stop();
            phase = p;
            const unit = p === 'scan' ? 'files' : p === 'encode' ? 'documents' : 'units';
            bar.start(Math.max(total, 1), 0, { phase: p.padEnd(9), unit });
          }
          bar.setTotal(Math.max(total, 1));
          bar.update(done);
        },
      });
      if (phase) bar.stop();
      const s = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(
        (meta.documents ? `data: ${meta.documents} task documents; ` : '') +
          `data: ${meta.files.found} files found, ${meta.files.duplicates} duplicates, ${meta.files.skipped} skipped; ` +
          `${meta.files.train} train / ${meta.files.validation} validation files; ` +
          `${meta.tokens.train} / ${meta.tokens.validation} tokens; vocab ${meta.vocabSize}; ${s}s → ${o.out}`,
      );
    });
  return data;
}
