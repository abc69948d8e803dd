// The small-scale suite: every measure run with several seeds on the held-out split, summarised as
// mean and run-to-run spread, with the sampler settings and speed next to each score.
import { Rng } from '@seed-diffusion/corruption';
import type { Model } from '@seed-diffusion/model';
import type { SamplerOptions, TextCodec } from '@seed-diffusion/sampler';

import { fnv1a } from '../rng';
import { type ElboOptions, maskedElbo } from './elbo';
import type { HeldOut } from './heldout';
import { type NextLineOptions, nextLineCompletion } from './next-line';
import { type RepairOptions, repairEdits } from './repair';
import { type RestoreOptions, restoreSpans } from './restore';
import { type MeasureRun, type MeasureSummary, summarize } from './stats';

export const MEASURES = ['elbo', 'next-line', 'restore', 'repair'] as const;
export type MeasureName = (typeof MEASURES)[number];

export interface SuiteOptions {
  /** One run of every measure per seed (default [0, 1, 2]). */
  seeds?: number[];
  measures?: MeasureName[];
  /** Sampler options of the decoding measures (next-line, restore). */
  sampler?: Partial<SamplerOptions>;
  elbo?: ElboOptions;
  nextLine?: NextLineOptions;
  restore?: RestoreOptions;
  repair?: RepairOptions;
  /** (items done, items in all, the measure running). */
  onProgress?: (done: number, total: number, measure: MeasureName) => void;
}

export interface SuiteReport {
  heldOut: { source: string; documents: number; tokens: number };
  model: { parameters: number; config: Record<string, unknown> };
  seeds: number[];
  measures: MeasureSummary[];
  wallSeconds: number;
  startedAt: string;
}

/** Items one run of a measure scores with these options (for the progress total). */
function itemsPerRun(m: MeasureName, o: SuiteOptions): number {
  switch (m) {
    case 'elbo': {
      const B = o.elbo?.batch ?? 4;
      return Math.ceil((o.elbo?.windows ?? 8) / B) * B;
    }
    case 'next-line':
      return o.nextLine?.lines ?? 16;
    case 'restore':
      return o.restore?.spans ?? 16;
    case 'repair':
      return o.repair?.blocks ?? 16;
  }
}

/** The Rng of one (measure, seed) run: independent across measures, identical across checkpoints. */
export function measureRng(measure: MeasureName, seed: number): Rng {
  return new Rng(fnv1a(`${measure}:${seed}`));
}

export function runSuite(model: Model, tokenizer: TextCodec, heldOut: HeldOut, o: SuiteOptions = {}): SuiteReport {
  const seeds = o.seeds ?? [0, 1, 2];
  if (seeds.length === 0 || seeds.some((s) => !Number.isSafeInteger(s)))
    throw new Error(`seeds must be a non-empty list of integers, got ${JSON.stringify(seeds)}`);
  const measures = o.measures ?? [...MEASURES];
  for (const m of measures)
    if (!MEASURES.includes(m)) throw new Error(`unknown measure ${m}; known: ${MEASURES.join(', ')}`);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const total = measures.reduce((a, m) => a + itemsPerRun(m, o) * seeds.length, 0);
  let base = 0;
  const summaries: MeasureSummary[] = [];
  for (const m of measures) {
    const runs: MeasureRun[] = [];
    for (const seed of seeds) {
      const rng = measureRng(m, seed);
      const onProgress = (d: number) => o.onProgress?.(base + d, total, m);
      switch (m) {
        case 'elbo':
          runs.push(maskedElbo(model, heldOut.stream, rng, { ...o.elbo, onProgress }));
          break;
        case 'next-line':
          runs.push(
            nextLineCompletion(model, tokenizer, heldOut, rng, { sampler: o.sampler, ...o.nextLine, onProgress }),
          );
          break;
        case 'restore':
          runs.push(restoreSpans(model, heldOut, rng, { sampler: o.sampler, ...o.restore, onProgress }));
          break;
        case 'repair':
          runs.push(repairEdits(model, heldOut, rng, { ...o.repair, onProgress }));
          break;
      }
      base += runs[runs.length - 1].samples;
      o.onProgress?.(base, total, m);
    }
    summaries.push(summarize(runs, seeds));
  }
  return {
    heldOut: { source: heldOut.source, documents: heldOut.docs.length, tokens: heldOut.stream.length },
    model: { parameters: model.numParameters, config: { ...model.config } },
    seeds: [...seeds],
    measures: summaries,
    wallSeconds: (performance.now() - t0) / 1000,
    startedAt,
  };
}

const SETTING_KEYS: Array<[string, string]> = [
  ['blockSize', 'b'],
  ['block', 'b'],
  ['seqLen', 'len'],
  ['policy', ''],
  ['threshold', 'τ'],
  ['temperature', 'T'],
  ['spanLength', 'span'],
  ['edits', 'k'],
  ['iterations', 'iters'],
];

/** A short form of a measure's settings for the table (the JSON keeps them all). */
export function shortSettings(s: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, label] of SETTING_KEYS) {
    if (s[k] === undefined) continue;
    parts.push(label ? `${label}=${s[k]}` : String(s[k]));
  }
  return parts.join(' ');
}

/** One row per score: measure, score, mean, spread, items, settings, tokens per forward, tokens/s. */
export function formatSuiteTable(report: SuiteReport): string {
  const head = ['measure', 'score', 'mean', 'std', 'n', 'settings', 'tok/fwd', 'tok/s'];
  const rows: string[][] = [];
  for (const m of report.measures) {
    for (const [name, sp] of Object.entries(m.scores)) {
      rows.push([
        m.measure,
        name,
        sp.mean.toFixed(4),
        sp.std.toFixed(4),
        `${m.samplesPerSeed}×${m.seeds.length}`,
        shortSettings(m.settings),
        m.tokensPerForward === null ? '-' : m.tokensPerForward.toFixed(2),
        m.tokensPerSecond === null ? '-' : m.tokensPerSecond.toFixed(1),
      ]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
