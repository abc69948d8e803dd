import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';

import {
  BenchTask,
  type Generator,
  type HeldOut,
  LANGUAGES,
  MEASURES,
  type MeasureName,
  ModelGenerator,
  type SuiteReport,
  Language,
  ScoreReport,
  SandboxLimits,
  editTasksToJsonl,
  formatSuiteTable,
  formatTable,
  heldOutFromDataset,
  heldOutFromFolder,
  plantBugs,
  probeSandbox,
  readBenchmark,
  referenceGenerator,
  runPassAtK,
  runSuite,
  writeFailures,
  writeFileAtomic,
  writeReport,
} from '@seed-diffusion/eval';
import type { SamplerOptions } from '@seed-diffusion/sampler';

import { editCommand } from './eval-edit';
import {
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  progressBar,
  samplerFlags,
  sandboxLimits,
  unitNumber,
  type SandboxFlags,
} from './eval-flags';
import { loadModelDir } from './generate';

function languageOption(value: string | undefined): Language | undefined {
  if (value === undefined) return undefined;
  if (!(LANGUAGES as readonly string[]).includes(value))
    throw new Error(`--language must be one of ${LANGUAGES.join(', ')}, got ${value}`);
  return value as Language;
}

function sandboxOptions(o: SandboxFlags): { limits: Partial<SandboxLimits>; concurrency?: number } {
  return { limits: sandboxLimits(o), concurrency: positiveInt(o.concurrency, '--concurrency') };
}

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

/** Flags of the model-backed evaluations (declared on `eval`, read by `eval edit` too). */
interface ModelFlags {
  model?: string;
  mode?: SamplerOptions['mode'];
  threads?: string;
  block?: string;
  policy?: SamplerOptions['policy'];
  threshold?: string;
  temperature?: string;
  maxNewTokens?: string;
  editThreshold?: string;
  editIterations?: string;
  editBlock?: string;
}

interface EvalFlags extends SandboxFlags, ModelFlags {
  references?: string;
  bench?: string;
  samples?: string;
  limit?: string;
  language?: string;
  out?: string;
  sampleSeed?: string;
  // the small-scale suite
  seeds?: string;
  heldout?: string;
  data?: string;
  validFraction?: string;
  measures?: string;
  elboWindows?: string;
  elboLen?: string;
  lines?: string;
  spans?: string;
  spanLen?: string;
  repairBlocks?: string;
  edits?: string;
  context?: string;
}

/** The model and its tokenizer, with --threads applied to the backend. */
function loadModel(o: ModelFlags): ReturnType<typeof loadModelDir> {
  const loaded = loadModelDir(o.model as string);
  const threads = positiveInt(o.threads, '--threads');
  if (threads !== undefined) loaded.model.backend.numThreads = threads;
  return loaded;
}

function modelGenerator(o: ModelFlags): ModelGenerator {
  const { model, tokenizer } = loadModel(o);
  return new ModelGenerator(model, tokenizer, {
    name: path.basename(path.resolve(o.model as string)),
    sampler: samplerFlags(o),
    edit: {
      threshold: unitNumber(o.editThreshold, '--edit-threshold'),
      iterations: positiveInt(o.editIterations, '--edit-iterations'),
      blockSize: positiveInt(o.editBlock, '--edit-block'),
    },
  });
}

/** A generation as kept in the samples file next to the results. */
interface KeptSample {
  task_id: string;
  sample: number;
  completion: string;
  tokens: number;
  forwards: number;
  seconds: number;
}

/** Wraps a generator so that every completion is kept (the runner itself keeps only failures). */
function recording(inner: Generator, into: KeptSample[]): Generator {
  return {
    name: inner.name,
    settings: inner.settings,
    async generate(prompt, opts) {
      const g = await inner.generate(prompt, opts);
      into.push({
        task_id: opts.taskId,
        sample: opts.sample,
        completion: g.text,
        tokens: g.tokens,
        forwards: g.forwards,
        seconds: g.seconds,
      });
      return g;
    },
  };
}

/** The `level` field of each row, where the benchmark has one (generated task suites do). */
function levelsOf(file: string): Map<string, string> {
  let buf = readFileSync(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const out = new Map<string, string>();
  for (const line of buf.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line) as { task_id?: unknown; level?: unknown };
    if (typeof row.task_id === 'string' && (typeof row.level === 'number' || typeof row.level === 'string'))
      out.set(row.task_id, String(row.level));
  }
  return out;
}

/** pass@1 (mean over samples) and tokens per forward per level. */
function byLevel(
  report: ScoreReport,
  kept: readonly KeptSample[],
  levels: Map<string, string>,
): Record<string, { tasks: number; pass_at_1: number; tokens_per_forward: number | null }> {
  const acc = new Map<string, { tasks: number; p: number; tokens: number; forwards: number }>();
  for (const t of report.perTask) {
    const l = levels.get(t.taskId);
    if (l === undefined) continue;
    const a = acc.get(l) ?? { tasks: 0, p: 0, tokens: 0, forwards: 0 };
    a.tasks++;
    a.p += t.n > 0 ? t.c / t.n : 0;
    acc.set(l, a);
  }
  for (const k of kept) {
    const a = acc.get(levels.get(k.task_id) ?? '');
    if (!a) continue;
    a.tokens += k.tokens;
    a.forwards += k.forwards;
  }
  return Object.fromEntries(
    [...acc.entries()]
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .map(([l, a]) => [
        l,
        {
          tasks: a.tasks,
          pass_at_1: Number((a.p / a.tasks).toFixed(4)),
          tokens_per_forward: a.forwards > 0 ? Number((a.tokens / a.forwards).toFixed(3)) : null,
        },
      ]),
  );
}

/** `eval --model DIR --bench FILE`: execution-based pass@k of the model's completions. */
async function modelPassAtK(o: EvalFlags): Promise<void> {
  const bench = o.bench as string;
  const samples = positiveInt(o.samples, '--samples') ?? 1;
  const seed = nonNegativeInt(o.sampleSeed, '--sample-seed') ?? 0;
  const { limits, concurrency } = sandboxOptions(o);
  const kept: KeptSample[] = [];
  const generator = recording(modelGenerator(o), kept);
  const tasks = readBenchmark(bench, { language: languageOption(o.language) }).slice(
    0,
    positiveInt(o.limit, '--limit'),
  );
  const bar = progressBar('eval');
  let report: ScoreReport;
  try {
    report = await runPassAtK(tasks, {
      generator,
      benchmark: bench,
      samples,
      ks: [1, 10],
      seed,
      limits,
      concurrency,
      onProgress: (d, t, p) => bar.update(d, t, p),
    });
  } finally {
    bar.stop();
  }
  const out = o.out ?? defaultOut(bench, `model-${generator.name}`);
  // every completion, with whether it passed, next to the results (the runner keeps failures only)
  const failed = new Set(report.failures.map((f) => `${f.taskId}#${f.sample}`));
  const samplesFile = out.replace(/\.json$/, '') + '.samples.jsonl';
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeFileAtomic(
    samplesFile,
    kept.map((k) => `${JSON.stringify({ ...k, passed: !failed.has(`${k.task_id}#${k.sample}`) })}\n`).join(''),
  );
  const levels = levelsOf(bench);
  const perLevel = levels.size > 0 ? byLevel(report, kept, levels) : undefined;
  if (perLevel)
    for (const [l, v] of Object.entries(perLevel))
      console.log(
        `level ${l}: ${v.tasks} tasks, pass@1 ${(100 * v.pass_at_1).toFixed(1)}%, tokens/forward ${v.tokens_per_forward ?? '-'}`,
      );
  finish(report, out, {
    model: path.resolve(o.model as string),
    mode: (generator.settings as { mode?: string }).mode ?? o.mode ?? null,
    samples_file: samplesFile,
    ...(perLevel ? { by_level: perLevel } : {}),
  });
}

/** The default held-out source: the Python standard library, split as `data build --src` splits it. */
export const DEFAULT_HELDOUT = '/usr/lib/python3.11';
/** The suite's sampler block size when --block is not given. */
const SUITE_BLOCK = 8;

function measureList(value: string | undefined): MeasureName[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((m) => m.trim());
  for (const m of list)
    if (!(MEASURES as readonly string[]).includes(m))
      throw new Error(`--measures: unknown measure "${m}"; known: ${MEASURES.join(', ')}`);
  return list as MeasureName[];
}

function seedList(value: string | undefined): number[] {
  if (value === undefined) return [0, 1, 2];
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1 && !value.includes(',')) return Array.from({ length: n }, (_, i) => i);
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.some((v) => !Number.isSafeInteger(v)))
    throw new Error(`--seeds must be a count (3) or a list of integers (0,1,2), got ${value}`);
  return list;
}

/** `eval --model DIR` without a benchmark: the small-scale measures on the held-out split. */
async function modelSuite(o: EvalFlags): Promise<void> {
  const dir = o.model as string;
  const { model, tokenizer } = loadModel(o);
  const seeds = seedList(o.seeds);
  const measures = measureList(o.measures);
  let heldOut: HeldOut;
  if (o.data !== undefined) {
    if (o.heldout !== undefined) throw new Error('eval: give --heldout DIR or --data DIR, not both');
    heldOut = heldOutFromDataset(o.data, tokenizer);
  } else {
    const src = o.heldout ?? DEFAULT_HELDOUT;
    if (!existsSync(src))
      throw new Error(`--heldout ${src} does not exist: pass a folder of Python files (or --data DIR)`);
    const frac = positiveNumber(o.validFraction, '--valid-fraction');
    heldOut = heldOutFromFolder(src, tokenizer, model.config.eosTokenId, { validFraction: frac });
  }
  const context = positiveInt(o.context, '--context');
  const maxLen = Math.min(heldOut.stream.length, model.config.maxSeqLen);
  const elboLen = positiveInt(o.elboLen, '--elbo-len') ?? Math.min(128, maxLen);
  const bar = new SingleBar({
    format: 'suite {measure} [{bar}] {value}/{total} | {duration_formatted} elapsed | eta {eta_formatted}',
    hideCursor: true,
    stream: process.stderr,
    // piped or in a log: a plain progress line every 10 s instead of nothing
    noTTYOutput: true,
    notTTYSchedule: 10000,
    etaBuffer: 20,
  });
  let started = false;
  let report: SuiteReport;
  try {
    report = runSuite(model, tokenizer, heldOut, {
      seeds,
      measures,
      // blocks of 8 unless --block says otherwise: a line is ~10 tokens, and a stop is seen only at a block's end
      sampler: { blockSize: SUITE_BLOCK, ...samplerFlags(o) },
      elbo: { windows: positiveInt(o.elboWindows, '--elbo-windows') ?? 16, seqLen: elboLen },
      nextLine: { lines: positiveInt(o.lines, '--lines') ?? 32, contextTokens: context },
      restore: {
        spans: positiveInt(o.spans, '--spans') ?? 32,
        spanLength: positiveInt(o.spanLen, '--span-len'),
        contextTokens: context,
      },
      repair: {
        blocks: positiveInt(o.repairBlocks, '--repair-blocks') ?? 32,
        edits: nonNegativeInt(o.edits, '--edits'),
        contextTokens: context,
        threshold: unitNumber(o.editThreshold, '--edit-threshold'),
        iterations: positiveInt(o.editIterations, '--edit-iterations'),
        blockSize: positiveInt(o.editBlock, '--edit-block'),
      },
      onProgress: (done, total, measure) => {
        if (!started) {
          bar.start(total, 0, { measure });
          started = true;
        }
        bar.update(done, { measure });
      },
    });
  } finally {
    if (started) bar.stop();
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const out = o.out ?? path.join('runs', 'eval', `suite-${path.basename(path.resolve(dir))}-${stamp}.json`);
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const full = { kind: 'suite', modelDir: path.resolve(dir), ...report };
  writeFileAtomic(out, `${JSON.stringify(full, null, 2)}\n`);
  console.log(formatSuiteTable(report));
  const scores: Record<string, { mean: number; std: number }> = {};
  for (const m of report.measures)
    for (const [k, v] of Object.entries(m.scores))
      scores[`${m.measure}.${k}`] = { mean: Number(v.mean.toFixed(5)), std: Number(v.std.toFixed(5)) };
  console.log(
    JSON.stringify({
      kind: 'suite',
      model: path.resolve(dir),
      parameters: report.model.parameters,
      heldout: report.heldOut,
      seeds: report.seeds,
      scores,
      wall_s: Number(report.wallSeconds.toFixed(2)),
      results: out,
    }),
  );
}

async function evalAction(o: EvalFlags): Promise<void> {
  if (o.model !== undefined) {
    if (o.references !== undefined) throw new Error('eval: give --references FILE or --model DIR, not both');
    return o.bench !== undefined ? modelPassAtK(o) : modelSuite(o);
  }
  if (o.bench !== undefined) throw new Error('eval --bench: give --model DIR to generate the completions');
  if (!o.references)
    throw new Error(
      'eval: give --references FILE (a benchmark jsonl, plain or .gz), --model DIR [--bench FILE], or a subcommand (plant, edit)',
    );
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

/** `seed-diffusion eval`: execution-based scores of a benchmark, and the small-scale measures of a model. */
export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description(
      "evaluation: pass@k of a benchmark's reference solutions (--references) or a model's completions (--model --bench), " +
        'the small-scale held-out suite (--model alone: ELBO, next-line, restore, repair), planted-bug editing (plant, edit)',
    )
    .option('--references <file>', "score the benchmark's own reference solutions (jsonl, plain or .gz)")
    .option(
      '--model <dir>',
      'a model folder: with --bench, pass@k of its completions; alone, the small-scale held-out suite',
    )
    .option('--bench <file>', 'benchmark jsonl (HumanEval layout, plain or .gz) for --model')
    .option('--samples <n>', 'completions per task with --model --bench (default 1; 10 gives pass@10)')
    .option('--sample-seed <n>', 'with --bench: run seed the per-sample sampler seeds derive from (default 0)')
    .addOption(
      new Option(
        '--mode <mode>',
        'with --bench: decoding mode, as in generate (cache: block diffusion with the KV cache; ar: one token per forward, ' +
          'the fused AR path; verify: block drafts checked against ar, its exact output)',
      ).choices(['cache', 'ar', 'verify']),
    )
    .option('--block <n>', 'sampler: tokens per block (default 32; suite 8)')
    .option('--threads <n>', 'CPU threads of the backend (1 is fastest for small models on a busy machine)')
    .addOption(
      new Option('--policy <name>', 'sampler: commit policy (default threshold)').choices([
        'threshold',
        'fixed',
        'factor',
      ]),
    )
    .option('--threshold <t>', 'sampler: threshold policy confidence (default 0.9)')
    .option('--temperature <t>', 'sampler: temperature (default 0, greedy; use > 0 with --samples > 1)')
    .option('--max-new-tokens <n>', 'sampler: tokens per completion at most (default 256)')
    .option(
      '--edit-threshold <t>',
      'self-correction: rewrite when the prediction differs with p > t (edit 0.9, repair 0.5)',
    )
    .option('--edit-iterations <n>', 'self-correction: forwards per block at most (default 4)')
    .option('--edit-block <n>', 'self-correction: tokens per block (default: largest trained block <= 16)')
    .option('--heldout <dir>', `suite: source folder split as \`data build\` does (default ${DEFAULT_HELDOUT})`)
    .option('--data <dir>', 'suite: a dataset folder from `data build` (its validation shards)')
    .option('--valid-fraction <f>', 'suite: held-out fraction of --heldout files (default 0.03, as data build)')
    .option('--seeds <n|list>', 'suite: seeds per measure, a count or a list (default 3)')
    .option('--measures <list>', `suite: comma-separated subset of ${MEASURES.join(',')}`)
    .option('--elbo-windows <n>', 'suite: ELBO windows per seed (default 16)')
    .option('--elbo-len <n>', 'suite: ELBO window length (default 128)')
    .option('--lines <n>', 'suite: next-line completions per seed (default 32)')
    .option('--spans <n>', 'suite: masked spans per seed (default 32)')
    .option('--span-len <n>', 'suite: tokens per masked span (default 8)')
    .option('--repair-blocks <n>', 'suite: corrupted blocks per seed (default 32)')
    .option('--edits <k>', 'suite: random substitutions per repair block (default 2)')
    .option('--context <n>', 'suite: left-context tokens (default 96)')
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
