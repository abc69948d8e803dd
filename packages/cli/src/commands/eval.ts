import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { SingleBar } from 'cli-progress';
import { Command } from 'commander';

import {
  BenchTask,
  LANGUAGES,
  Language,
  ScoreReport,
  SandboxLimits,
  editTasksToJsonl,
  formatTable,
  parseEditTasks,
  plantBugs,
  probeSandbox,
  readBenchmark,
  referenceEditGenerator,
  referenceGenerator,
  runEditing,
  runPassAtK,
  unchangedEditGenerator,
  writeFailures,
  writeFileAtomic,
  writeReport,
} from '@seed-diffusion/eval';

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${value}`);
  return n;
}

function positiveNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${flag} must be a positive number, got ${value}`);
  return n;
}

function languageOption(value: string | undefined): Language | undefined {
  if (value === undefined) return undefined;
  if (!(LANGUAGES as readonly string[]).includes(value))
    throw new Error(`--language must be one of ${LANGUAGES.join(', ')}, got ${value}`);
  return value as Language;
}

interface SandboxFlags {
  timeout?: string;
  memory?: string;
  concurrency?: string;
}

function sandboxOptions(o: SandboxFlags): { limits: Partial<SandboxLimits>; concurrency?: number } {
  const timeout = positiveNumber(o.timeout, '--timeout');
  const memory = positiveInt(o.memory, '--memory');
  const limits: Partial<SandboxLimits> = {};
  if (timeout !== undefined) limits.timeoutMs = timeout * 1000;
  if (memory !== undefined) limits.memoryMb = memory;
  return { limits, concurrency: positiveInt(o.concurrency, '--concurrency') };
}

function progressBar(label: string) {
  const bar = new SingleBar({
    format: `${label} [{bar}] {value}/{total} | {passed} passed | {duration_formatted} elapsed | eta {eta_formatted}`,
    hideCursor: true,
    stream: process.stderr,
    noTTYOutput: false,
    etaBuffer: 50,
  });
  let started = false;
  return {
    update(done: number, total: number, passed: number) {
      if (!started) {
        bar.start(total, 0, { passed: 0 });
        started = true;
      }
      bar.update(done, { passed });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** Default place for results: runs/eval/<benchmark>-<kind>-<time>.json (runs/ is not committed). */
function defaultOut(bench: string, kind: string): string {
  const base = path.basename(bench).replace(/\.(jsonl|json)(\.gz)?$/, '');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return path.join('runs', 'eval', `${base}-${kind}-${stamp}.json`);
}

/** Writes results + failures, prints the table and ends on one JSON line. */
function finish(report: ScoreReport, out: string, extra: Record<string, unknown>): void {
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const failures = out.replace(/\.json$/, '') + '.failures.jsonl';
  writeReport(out, report);
  writeFailures(failures, report);
  console.log(formatTable([report]));
  for (const note of report.sandbox.capabilities.notes) console.log(`sandbox: ${note}`);
  console.log(
    JSON.stringify({
      kind: report.kind,
      benchmark: report.benchmark,
      language: report.languages.join(','),
      n: report.tasks,
      samples_per_task: report.samplesPerTask,
      passed: report.samplesPassed,
      pass_at_1: report.passAtK['1'],
      pass_at_10: report.passAtK['10'] ?? null,
      tokens_per_forward: report.throughput.tokensPerForward,
      tokens_per_second: report.throughput.tokensPerSecond,
      generator: report.generator.name,
      network_isolated: report.sandbox.capabilities.networkIsolated,
      wall_s: Number(report.wallSeconds.toFixed(2)),
      results: out,
      failures,
      ...extra,
    }),
  );
}

interface EvalFlags extends SandboxFlags {
  references?: string;
  model?: string;
  bench?: string;
  limit?: string;
  language?: string;
  out?: string;
}

async function evalAction(o: EvalFlags): Promise<void> {
  if (o.model !== undefined) {
    // The sampler is wired in by the generation work: it implements Generator from @seed-diffusion/eval
    // and is passed to runPassAtK / runEditing exactly like the reference generator below.
    throw new Error(
      "eval --model: the diffusion sampler is not wired into eval yet; use --references FILE to score a benchmark's own solutions",
    );
  }
  if (!o.references)
    throw new Error('eval: give --references FILE (a benchmark jsonl, plain or .gz) or a subcommand (plant, edit)');
  const limit = positiveInt(o.limit, '--limit');
  const { limits, concurrency } = sandboxOptions(o);
  const all = readBenchmark(o.references, { language: languageOption(o.language) });
  const withSolution: BenchTask[] = all.filter((t) => t.canonicalSolution !== null);
  if (withSolution.length === 0)
    throw new Error(`eval --references: ${o.references} has no canonical_solution fields (a tests-only benchmark)`);
  const tasks = withSolution.slice(0, limit ?? withSolution.length);
  const bar = progressBar('eval');
  let report: ScoreReport;
  try {
    report = await runPassAtK(tasks, {
      generator: referenceGenerator(tasks),
      benchmark: o.references,
      samples: 1,
      ks: [1, 10],
      limits,
      concurrency,
      onProgress: (d, t, p) => bar.update(d, t, p),
    });
  } finally {
    bar.stop();
  }
  finish(report, o.out ?? defaultOut(o.references, 'references'), {
    rows: all.length,
    without_solution: all.length - withSolution.length,
  });
}

function plantCommand(): Command {
  return new Command('plant')
    .description('build code-editing tasks: plant one verified bug in each Python reference solution')
    .requiredOption('--src <file>', 'Python benchmark jsonl (HumanEval / MBPP format, plain or .gz)')
    .requiredOption('--seed <n>', 'seed for choosing the bugs (the same seed gives the same tasks)')
    .option('--attempts <n>', 'variants tried per task before giving up', '6')
    .addHelpText(
      'after',
      "\nAlso takes eval's --out (required: the editing tasks jsonl), --limit, --timeout (default 5), --memory, --concurrency.",
    )
    .action(async (_o: unknown, self: Command) => {
      const o = self.optsWithGlobals() as SandboxFlags & {
        src: string;
        seed: string;
        out?: string;
        limit?: string;
        attempts: string;
      };
      if (!o.out) throw new Error('eval plant: --out FILE is required (where to write the editing tasks)');
      o.timeout ??= '5';
      const out: string = o.out;
      const seed = Number(o.seed);
      if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${o.seed}`);
      const limit = positiveInt(o.limit, '--limit');
      const { limits, concurrency } = sandboxOptions(o);
      const tasks = readBenchmark(o.src).slice(0, limit);
      const bar = progressBar('plant');
      const t0 = Date.now();
      let result;
      try {
        result = await plantBugs(tasks, {
          seed,
          maxAttempts: positiveInt(o.attempts, '--attempts'),
          limits,
          concurrency,
          onProgress: (d, t, p) => bar.update(d, t, p),
        });
      } finally {
        bar.stop();
      }
      mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
      writeFileAtomic(out, editTasksToJsonl(result.tasks));
      const byKind: Record<string, number> = {};
      for (const t of result.tasks) byKind[t.bug.kind] = (byKind[t.bug.kind] ?? 0) + 1;
      const reasons: Record<string, number> = {};
      for (const s of result.skipped) {
        const r = s.reason.replace(/\(.*\)/, '').trim();
        reasons[r] = (reasons[r] ?? 0) + 1;
      }
      for (const [k, v] of Object.entries(byKind)) console.log(`${k.padEnd(15)} ${v}`);
      for (const s of result.skipped) console.log(`skipped ${s.taskId}: ${s.reason}`);
      const caps = probeSandbox();
      console.log(
        JSON.stringify({
          src: o.src,
          seed,
          tasks: tasks.length,
          planted: result.tasks.length,
          skipped: result.skipped.length,
          by_kind: byKind,
          skipped_reasons: reasons,
          network_isolated: caps.networkIsolated,
          wall_s: Number(((Date.now() - t0) / 1000).toFixed(2)),
          out,
        }),
      );
    });
}

function editCommand(): Command {
  return new Command('edit')
    .description(
      'score code-editing tasks (from `eval plant`): --answer fixes (must pass all) or unchanged (must pass none)',
    )
    .requiredOption('--tasks <file>', 'editing tasks jsonl written by `eval plant`')
    .requiredOption(
      '--answer <who>',
      "fixes: answer with each task's reference program; unchanged: with the broken program",
    )
    .addHelpText(
      'after',
      "\nAlso takes eval's --out, --limit, --timeout, --memory, --concurrency, --model (not wired yet).",
    )
    .action(async (_o: unknown, self: Command) => {
      const o = self.optsWithGlobals() as SandboxFlags & {
        tasks: string;
        answer: string;
        model?: string;
        limit?: string;
        out?: string;
      };
      if (o.model !== undefined) throw new Error('eval edit --model: the diffusion sampler is not wired into eval yet');
      if (o.answer !== 'fixes' && o.answer !== 'unchanged')
        throw new Error(`eval edit: --answer must be fixes or unchanged, got ${o.answer}`);
      const { limits, concurrency } = sandboxOptions(o);
      const tasks = parseEditTasks(readFileSync(o.tasks, 'utf8'), o.tasks).slice(0, positiveInt(o.limit, '--limit'));
      const generator = o.answer === 'fixes' ? referenceEditGenerator(tasks) : unchangedEditGenerator(tasks);
      const bar = progressBar('edit');
      let report: ScoreReport;
      try {
        report = await runEditing(tasks, {
          generator,
          benchmark: o.tasks,
          limits,
          concurrency,
          onProgress: (d, t, p) => bar.update(d, t, p),
        });
      } finally {
        bar.stop();
      }
      finish(report, o.out ?? defaultOut(o.tasks, `edit-${generator.name}`), {});
    });
}

/** `seed-diffusion eval`: execution-based scores of a benchmark (references now, a model later). */
export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description(
      "execution-based evaluation: pass@k of a benchmark's reference solutions (--references), planted-bug editing (plant, edit)",
    )
    .option('--references <file>', "score the benchmark's own reference solutions (jsonl, plain or .gz)")
    .option('--model <dir>', 'generate completions with a model (not wired yet)')
    .option('--limit <n>', 'only the first n tasks')
    .option('--timeout <s>', 'time limit per program, seconds (default 10; plant: 5)')
    .option('--memory <mb>', 'memory limit per program, MiB (default 1024)')
    .option('--concurrency <n>', 'programs run at once (default: the number of cores)')
    .option('--language <lang>', `language when the file does not say (${LANGUAGES.join(', ')})`)
    .option(
      '--out <file>',
      'results JSON (default runs/eval/<benchmark>-references-<time>.json); failures go next to it',
    )
    .action(evalAction);
  // plant and edit read --out, --limit, --timeout, --memory, --concurrency from eval (optsWithGlobals):
  // commander lets a parent's options appear after a subcommand name, so they are declared once, here
  cmd.addCommand(plantCommand());
  cmd.addCommand(editCommand());
  return cmd;
}
