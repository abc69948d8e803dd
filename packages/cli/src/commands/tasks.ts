import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { SingleBar } from 'cli-progress';
import { Command } from 'commander';

import { editTasksToJsonl, plantBugs, probeSandbox, readBenchmark } from '@seed-diffusion/eval';
import { SPLITS, buildCard, cardMarkdown, generateSuite, writeBytesAtomic, writeTasks } from '@seed-diffusion/tasks';

function count(value: string, flag: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer >= ${min}, got ${value}`);
  return n;
}

/** `seed-diffusion tasks make`: the generated, sandbox-verified task suite, its card and planted-bug split. */
export function tasksCommand(): Command {
  const tasks = new Command('tasks').description('verifiable code tasks: a generated suite in HumanEval format');
  tasks
    .command('make')
    .description(
      'generate Python function tasks from a grammar of primitives (3 levels), verify every reference in the sandbox, ' +
        'write train/valid/test splits (held-out compositions), a card and planted-bug variants of the test split',
    )
    .requiredOption('--out <dir>', 'output folder: train/valid/test.jsonl.gz, test-fix.jsonl, card.json, CARD.md')
    .option('--train <n>', 'training tasks', '100000')
    .option('--test <n>', 'held-out test tasks (balanced over the levels)', '500')
    .option('--valid <n>', 'validation tasks (default: as many as --test)')
    .option('--seed <n>', 'seed: the same seed gives the same files', '0')
    .option('--plant-seed <n>', 'seed for the planted bugs of test-fix.jsonl (default: --seed)')
    .option('--no-plant', 'skip the planted-bug split')
    .option('--concurrency <n>', 'sandboxed programs at once (default: the number of cores)')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const seed = count(o.seed as string, '--seed');
      const out = o.out as string;
      const concurrency = o.concurrency !== undefined ? count(o.concurrency as string, '--concurrency', 1) : undefined;
      const t0 = Date.now();
      const bar = new SingleBar({
        format:
          'tasks |{bar}| {value}/{total} kept | {rate} verified/s | {duration_formatted} elapsed | eta {eta_formatted}',
        hideCursor: true,
        stream: process.stderr,
        noTTYOutput: true,
        notTTYSchedule: 5000,
      });
      const want = count(o.train as string, '--train') + 2 * count(o.test as string, '--test');
      bar.start(want, 0, { rate: '-' });
      const suite = await generateSuite({
        seed,
        train: count(o.train as string, '--train'),
        test: count(o.test as string, '--test'),
        valid: o.valid !== undefined ? count(o.valid as string, '--valid') : undefined,
        sandbox: { concurrency },
        onProgress: (kept, _w, st) => {
          bar.setTotal(_w.train + _w.valid + _w.test);
          bar.update(kept.train + kept.valid + kept.test, {
            rate: Math.round(st.verified / Math.max(st.seconds, 1e-3)),
          });
        },
      });
      bar.stop();
      mkdirSync(out, { recursive: true });
      for (const s of SPLITS) writeTasks(path.join(out, `${s}.jsonl.gz`), suite.splits[s]);
      const genSeconds = (Date.now() - t0) / 1000;
      let planted: { planted: number; skipped: number; seed: number } | undefined;
      if (o.plant !== false) {
        const plantSeed = o.plantSeed !== undefined ? count(o.plantSeed as string, '--plant-seed') : seed;
        const testFile = path.join(out, 'test.jsonl.gz');
        const r = await plantBugs(readBenchmark(testFile), {
          seed: plantSeed,
          limits: { timeoutMs: 5000 },
          concurrency,
        });
        // plain jsonl: `eval edit --tasks` reads it as it is
        writeBytesAtomic(path.join(out, 'test-fix.jsonl'), editTasksToJsonl(r.tasks));
        planted = { planted: r.tasks.length, skipped: r.skipped.length, seed: plantSeed };
      }
      const command = `seed-diffusion tasks make --out ${out} --train ${o.train} --test ${o.test}${o.valid ? ` --valid ${o.valid}` : ''} --seed ${seed}`;
      const card = buildCard(suite.splits, {
        seed,
        command,
        stats: { ...suite.stats, seconds: Number(genSeconds.toFixed(2)) },
      });
      const full = { ...card, planted, network_isolated: probeSandbox().networkIsolated };
      writeBytesAtomic(path.join(out, 'card.json'), `${JSON.stringify(full, null, 2)}\n`);
      writeBytesAtomic(
        path.join(out, 'CARD.md'),
        cardMarkdown(card) +
          (planted
            ? `\nPlanted-bug variants of the test split (eval's planting rules, seed ${planted.seed}): ${planted.planted} tasks in test-fix.jsonl, ${planted.skipped} skipped.\n`
            : ''),
      );
      console.log(
        JSON.stringify({
          out,
          seed,
          train: suite.splits.train.length,
          valid: suite.splits.valid.length,
          test: suite.splits.test.length,
          planted: planted?.planted ?? null,
          verified: suite.stats.verified,
          verified_per_s: Number((suite.stats.verified / Math.max(suite.stats.seconds, 1e-3)).toFixed(1)),
          shared_with_train: { test: card.checks.test.sharedCompositions, valid: card.checks.valid.sharedCompositions },
          wall_s: Number(((Date.now() - t0) / 1000).toFixed(2)),
        }),
      );
    });
  return tasks;
}
