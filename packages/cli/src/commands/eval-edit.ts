// `seed-diffusion eval edit`: score code editing on a file of tasks in any of the public layouts
// (HumanEvalPack / HumanEvalFix, CanItEdit, or `eval plant` output), with the reference fixes, the
// unchanged programs, or a model editing in place and/or regenerating the function.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Command, Option } from 'commander';

import {
  type CanItEditInstruction,
  EDIT_MODES,
  type EditMode,
  type EditTask,
  type Generator,
  ModelEditGenerator,
  type ScoreReport,
  formatTable,
  readEditTasks,
  referenceEditGenerator,
  runEditing,
  shareCores,
  unchangedEditGenerator,
  writeFailures,
  writeReport,
  writeSamples,
} from '@seed-diffusion/eval';
import type { SamplerOptions } from '@seed-diffusion/sampler';

import {
  type SandboxFlags,
  nonNegativeInt,
  positiveInt,
  progressBar,
  samplerFlags,
  sandboxLimits,
  unitNumber,
} from './eval-flags';
import { loadModelDir } from './generate';

interface EditFlags extends SandboxFlags {
  tasks: string;
  answer?: string;
  editMode: string;
  instruction: CanItEditInstruction;
  // declared on `eval`, read through optsWithGlobals
  model?: string;
  threads?: string;
  mode?: SamplerOptions['mode'];
  block?: string;
  policy?: SamplerOptions['policy'];
  threshold?: string;
  temperature?: string;
  maxNewTokens?: string;
  editThreshold?: string;
  editIterations?: string;
  editBlock?: string;
  samples?: string;
  sampleSeed?: string;
  limit?: string;
  out?: string;
}

function editModes(value: string): EditMode[] {
  const list = value === 'both' ? [...EDIT_MODES] : value.split(',').map((m) => m.trim());
  for (const m of list)
    if (!(EDIT_MODES as readonly string[]).includes(m))
      throw new Error(`--edit-mode must be in-place, regenerate or both (or a comma list), got ${JSON.stringify(m)}`);
  return [...new Set(list)] as EditMode[];
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** Where a run's results go: --out (one mode) or --out with the mode added, else runs/eval/. */
function outFile(o: EditFlags, mode: EditMode, modes: number, generator: string): string {
  if (o.out) return modes > 1 ? o.out.replace(/(\.json)?$/, `-${mode}.json`) : o.out;
  const base = path.basename(o.tasks).replace(/\.(jsonl|json)(\.gz)?$/, '');
  return path.join('runs', 'eval', `${base}-edit-${mode}-${generator}-${stamp()}.json`);
}

/** Writes the report, every sample (outputs and programs) and the failures next to it. */
function save(report: ScoreReport, out: string): { results: string; outputs: string; failures: string } {
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const stem = out.replace(/\.json$/, '');
  const files = { results: out, outputs: `${stem}.samples.jsonl`, failures: `${stem}.failures.jsonl` };
  writeReport(files.results, report);
  writeSamples(files.outputs, report);
  writeFailures(files.failures, report);
  return files;
}

async function editAction(_o: unknown, self: Command): Promise<void> {
  const o = self.optsWithGlobals() as EditFlags;
  if (o.model !== undefined && o.answer !== undefined)
    throw new Error('eval edit: give --model DIR or --answer, not both');
  if (o.model === undefined && o.answer !== 'fixes' && o.answer !== 'unchanged')
    throw new Error(`eval edit: --answer must be fixes or unchanged (or give --model DIR), got ${o.answer}`);
  const modes = editModes(o.editMode);
  const samples = positiveInt(o.samples, '--samples') ?? 1;
  const seed = nonNegativeInt(o.sampleSeed, '--sample-seed') ?? 0;
  const limits = sandboxLimits(o);
  const tasks: EditTask[] = readEditTasks(o.tasks, { canItEditInstruction: o.instruction }).slice(
    0,
    positiveInt(o.limit, '--limit'),
  );
  const cores = os.cpus().length;
  let generator: Generator;
  let threads: number | undefined;
  let concurrency = positiveInt(o.concurrency, '--concurrency');
  if (o.model !== undefined) {
    const share = shareCores(cores, { threads: positiveInt(o.threads, '--threads'), concurrency });
    ({ threads, concurrency } = share);
    const { model, tokenizer } = loadModelDir(o.model);
    model.backend.numThreads = share.threads;
    const sampler = samplerFlags(o);
    if (samples > 1 && !(sampler.temperature! > 0))
      console.error('eval edit: --samples > 1 with temperature 0 repeats the same answer; pass --temperature > 0');
    generator = new ModelEditGenerator(model, tokenizer, {
      name: path.basename(path.resolve(o.model)),
      sampler,
      inPlace: {
        threshold: unitNumber(o.editThreshold, '--edit-threshold'),
        iterations: positiveInt(o.editIterations, '--edit-iterations'),
        blockSize: positiveInt(o.editBlock, '--edit-block'),
      },
    });
  } else {
    generator = o.answer === 'fixes' ? referenceEditGenerator(tasks) : unchangedEditGenerator(tasks);
  }
  const reports: ScoreReport[] = [];
  const runs: Record<string, unknown>[] = [];
  for (const mode of modes) {
    const bar = progressBar(`edit ${mode}`);
    let report: ScoreReport;
    try {
      report = await runEditing(tasks, {
        generator,
        benchmark: o.tasks,
        mode,
        samples,
        ks: [1, 10],
        seed,
        limits,
        concurrency,
        generatorThreads: threads,
        onProgress: (d, t, p) => bar.update(d, t, p),
      });
    } finally {
      bar.stop();
    }
    const files = save(report, outFile(o, mode, modes.length, generator.name));
    reports.push(report);
    runs.push({
      edit_mode: mode,
      passed: report.samplesPassed,
      total: report.samplesTotal,
      pass_at_1: report.passAtK['1'],
      pass_at_10: report.passAtK['10'] ?? null,
      reasons: report.reasons,
      tokens_per_forward: report.throughput.tokensPerForward,
      tokens_per_second: report.throughput.tokensPerSecond,
      wall_s: Number(report.wallSeconds.toFixed(2)),
      ...files,
    });
  }
  console.log(formatTable(reports));
  const caps = reports[0].sandbox.capabilities;
  for (const note of caps.notes) console.log(`sandbox: ${note}`);
  const formats = [...new Set(tasks.map((t) => t.format))];
  console.log(
    JSON.stringify({
      kind: 'edit',
      tasks_file: o.tasks,
      formats,
      languages: [...new Set(tasks.map((t) => t.language))],
      n: tasks.length,
      samples_per_task: samples,
      generator: generator.name,
      ...(o.model !== undefined ? { model: path.resolve(o.model) } : { answer: o.answer }),
      threads: threads ?? null,
      concurrency: reports[0].sandbox.concurrency,
      python: caps.python ? `${caps.python.executable} ${caps.python.version}` : null,
      node: caps.node.version,
      isolated: caps.mountIsolated && caps.networkIsolated,
      runs,
    }),
  );
}

export function editCommand(): Command {
  return new Command('edit')
    .description(
      'score code editing by running the tests: tasks from `eval plant`, HumanEvalPack (HumanEvalFix) or CanItEdit files (.jsonl, .jsonl.gz)',
    )
    .requiredOption(
      '--tasks <file>',
      'editing tasks: HumanEvalPack, CanItEdit or `eval plant` rows, jsonl plain or .gz',
    )
    .option('--answer <who>', "without --model: fixes (each task's reference) or unchanged (the program as given)")
    .addOption(
      new Option('--edit-mode <mode>', 'how the model edits: in-place, regenerate, or both (default in-place)').default(
        'in-place',
      ),
    )
    .addOption(
      new Option('--instruction <which>', 'CanItEdit: which instruction to give')
        .choices(['descriptive', 'lazy'])
        .default('descriptive'),
    )
    .addHelpText(
      'after',
      "\nAlso takes eval's --model, --samples, --sample-seed, --out, --limit, --timeout, --memory, --concurrency,\n" +
        '--threads, the sampler flags (--block, --policy, --threshold, --temperature, --max-new-tokens) for\n' +
        'regenerate mode, and --edit-block, --edit-threshold, --edit-iterations for in-place mode.\n' +
        'in-place: the instruction is a comment the model reads before the program; it rewrites the tokens it\n' +
        '  is sure are wrong (self-correction: the token count stays).\n' +
        'regenerate: the model reads the program, the instruction and the function head, and writes the body\n' +
        '  (CanItEdit: the whole program), so fixes that add or remove logic are possible.\n' +
        'With --model, the model gets cores - workers threads and the sandbox 1 worker per 4 cores (min 1 each)\n' +
        'unless --threads / --concurrency say otherwise. Every sample (output and program run) is saved in\n' +
        '<out>.samples.jsonl beside the results.',
    )
    .action(editAction);
}
