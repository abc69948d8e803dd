import os from 'node:os';

import { GenerateOptions, Generator } from './generator';
import { meanPassAtK } from './pass-at-k';
import type { EditMode, EditRequest } from './edit-prompt';
import type { FailureKind, FailureReason } from './outcome';
import { Pool } from './pool';
import { fnv1a } from './rng';
import {
  DEFAULT_LIMITS,
  Program,
  RunStatus,
  SandboxCapabilities,
  SandboxLimits,
  probeSandbox,
  runProgram,
  withEpilogue,
} from './sandbox';
import { Language } from './types';

/** One thing to sample: the prompt a generator sees and how its answer becomes a test program. */
export interface SampleItem {
  taskId: string;
  language: Language;
  mode: GenerateOptions['mode'];
  prompt: string;
  /** Editing tasks: passed to the generator with the prompt. */
  edit?: EditRequest;
  program(text: string): Program;
}

export interface SampleResult {
  taskId: string;
  sample: number;
  status: RunStatus | 'error';
  passed: boolean;
  /** Why it failed (null when passed; 'error': the answer could not be made into a program). */
  reason: FailureReason | null;
  exitCode: number | null;
  signal: string | null;
  ms: number;
  /** Last part of stderr (or the build error), for the failures list. */
  stderrTail: string;
  tokens: number;
  forwards: number;
  genSeconds: number;
  /** The generator's answer (for a regenerated edit: what the model wrote). */
  output: string;
  /** The program that was run (answer, tests and harness), or null when none could be built. */
  program: string | null;
}

export interface Throughput {
  tokens: number;
  forwards: number;
  generateSeconds: number;
  /** Tokens per model forward pass: the parallel-decoding speed-up; null without a model. */
  tokensPerForward: number | null;
  tokensPerSecond: number | null;
}

export interface ScoreReport {
  kind: 'pass@k' | 'edit';
  /** Editing: how the model edited (in place, or regenerating the function). */
  editMode?: EditMode;
  benchmark: string;
  languages: Language[];
  tasks: number;
  samplesPerTask: number;
  /** pass@k by k ("1", "10"); null where a task has fewer than k samples. */
  passAtK: Record<string, number | null>;
  samplesPassed: number;
  samplesTotal: number;
  tasksSolved: number;
  generator: { name: string; settings: Record<string, unknown> };
  throughput: Throughput;
  sandbox: { capabilities: SandboxCapabilities; limits: SandboxLimits; concurrency: number };
  /** How the machine's cores were shared: sandbox workers beside the generator's threads. */
  cores: { available: number; sandboxWorkers: number; generatorThreads: number | null };
  seed: number;
  wallSeconds: number;
  startedAt: string;
  perTask: Array<{ taskId: string; n: number; c: number }>;
  /** Failed samples by reason. */
  reasons: Partial<Record<FailureKind | 'error', number>>;
  failures: SampleResult[];
  /** Every sample, in task order: the answers and programs behind the scores. */
  samples: SampleResult[];
}

export interface ScoreOptions {
  generator: Generator;
  benchmark: string;
  samples?: number;
  ks?: number[];
  seed?: number;
  limits?: Partial<SandboxLimits>;
  concurrency?: number;
  /** The generator's compute threads, recorded with the scores (see shareCores). */
  generatorThreads?: number;
  onProgress?: (done: number, total: number, passed: number) => void;
}

const tail = (s: string, n = 2000) => (s.length > n ? `…${s.slice(-n)}` : s);

/**
 * Generate `samples` answers per item (one at a time: the generator owns the model) and run each
 * answer's test program in the sandbox pool while the next one is generated.
 */
export async function scoreSamples(
  items: readonly SampleItem[],
  kind: ScoreReport['kind'],
  opts: ScoreOptions,
): Promise<ScoreReport> {
  const samples = opts.samples ?? 1;
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${samples}`);
  const ks = opts.ks ?? [1, 10];
  const seed = opts.seed ?? 0;
  const concurrency = opts.concurrency ?? Math.max(1, os.cpus().length);
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const capabilities = probeSandbox();
  const pool = new Pool(concurrency);
  const startedAt = new Date().toISOString();
  const t0 = process.hrtime.bigint();
  const total = items.length * samples;
  let done = 0;
  let passed = 0;
  const results: SampleResult[] = [];
  const running: Promise<void>[] = [];
  // programs submitted and not finished: generation goes on while up to `concurrency` run and one
  // more waits, so the model never idles on a test run (with one worker, the old wait-for-a-free-slot
  // left the model idle during every run)
  const outstanding = new Set<Promise<void>>();
  let firstError: unknown;
  for (const item of items) {
    for (let s = 0; s < samples; s++) {
      while (outstanding.size > concurrency) await Promise.race(outstanding);
      if (firstError) break;
      const gen = await opts.generator.generate(item.prompt, {
        taskId: item.taskId,
        language: item.language,
        mode: item.mode,
        sample: s,
        seed: fnv1a(`${seed}:${item.taskId}:${s}`),
        edit: item.edit,
      });
      const base = {
        taskId: item.taskId,
        sample: s,
        tokens: gen.tokens,
        forwards: gen.forwards,
        genSeconds: gen.seconds,
        output: gen.raw ?? gen.text,
      };
      const job: Promise<void> = pool
        .run(async (slot) => {
          let r: SampleResult;
          let program: Program | undefined;
          try {
            program = item.program(gen.text);
          } catch (e) {
            r = {
              ...base,
              status: 'error',
              passed: false,
              reason: { kind: 'exception', detail: `no program: ${(e as Error).message}` },
              program: null,
              exitCode: null,
              signal: null,
              ms: 0,
              stderrTail: String((e as Error).message),
            };
          }
          if (program) {
            const run = await runProgram(program, { limits, slot });
            r = {
              ...base,
              status: run.status,
              passed: run.status === 'passed',
              reason: run.reason,
              program: withEpilogue(program),
              exitCode: run.exitCode,
              signal: run.signal,
              ms: run.ms,
              stderrTail: tail(run.stderr),
            };
          }
          results.push(r!);
          done++;
          if (r!.passed) passed++;
          opts.onProgress?.(done, total, passed);
        })
        .catch((e) => {
          firstError ??= e;
        })
        .finally(() => outstanding.delete(job));
      outstanding.add(job);
      running.push(job);
    }
  }
  await Promise.all(running);
  if (firstError) throw firstError;
  const byTask = new Map<string, { n: number; c: number }>();
  for (const item of items) byTask.set(item.taskId, { n: 0, c: 0 });
  for (const r of results) {
    const t = byTask.get(r.taskId)!;
    t.n++;
    if (r.passed) t.c++;
  }
  const perTask = [...byTask].map(([taskId, { n, c }]) => ({ taskId, n, c }));
  const counts = perTask.map((t) => [t.n, t.c] as const);
  const passAtK: Record<string, number | null> = {};
  for (const k of ks) passAtK[String(k)] = meanPassAtK(counts, k);
  const tokens = results.reduce((a, r) => a + r.tokens, 0);
  const forwards = results.reduce((a, r) => a + r.forwards, 0);
  const generateSeconds = results.reduce((a, r) => a + r.genSeconds, 0);
  const order = new Map(items.map((it, i) => [it.taskId, i]));
  const sorted = [...results].sort((a, b) => order.get(a.taskId)! - order.get(b.taskId)! || a.sample - b.sample);
  const reasons: ScoreReport['reasons'] = {};
  for (const r of sorted) {
    if (r.passed) continue;
    const k = r.status === 'error' ? 'error' : (r.reason?.kind ?? 'error');
    reasons[k] = (reasons[k] ?? 0) + 1;
  }
  return {
    kind,
    benchmark: opts.benchmark,
    languages: [...new Set(items.map((i) => i.language))],
    tasks: items.length,
    samplesPerTask: samples,
    passAtK,
    samplesPassed: passed,
    samplesTotal: total,
    tasksSolved: perTask.filter((t) => t.c > 0).length,
    generator: { name: opts.generator.name, settings: opts.generator.settings },
    throughput: {
      tokens,
      forwards,
      generateSeconds,
      tokensPerForward: forwards > 0 ? tokens / forwards : null,
      tokensPerSecond: generateSeconds > 0 && tokens > 0 ? tokens / generateSeconds : null,
    },
    sandbox: { capabilities, limits, concurrency },
    cores: {
      available: os.cpus().length,
      sandboxWorkers: concurrency,
      generatorThreads: opts.generatorThreads ?? null,
    },
    seed,
    wallSeconds: Number(process.hrtime.bigint() - t0) / 1e9,
    startedAt,
    perTask,
    reasons,
    failures: sorted.filter((r) => !r.passed),
    samples: sorted,
  };
}
