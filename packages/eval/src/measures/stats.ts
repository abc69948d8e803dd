// What every small-scale measure returns, and the run-to-run summary over seeds that makes two
// checkpoints comparable (a difference smaller than the spread is not a ranking).

/** One run of one measure with one seed. */
export interface MeasureRun {
  measure: string;
  /** Named scores of this run, each an average over its samples (e.g. exactMatch, editSimilarity). */
  scores: Record<string, number>;
  /** Items scored (windows, lines, spans, blocks). */
  samples: number;
  /** Decoding cost: tokens produced (or scored), model forward passes, wall seconds. */
  tokens: number;
  forwards: number;
  seconds: number;
  /** Sampler / estimator settings, copied next to the scores. */
  settings: Record<string, unknown>;
}

export interface Spread {
  mean: number;
  /** Sample standard deviation over seeds (n − 1 denominator; 0 for one seed). */
  std: number;
  values: number[];
}

/** A measure over several seeds: mean and spread of every score, with the summed cost. */
export interface MeasureSummary {
  measure: string;
  seeds: number[];
  scores: Record<string, Spread>;
  samplesPerSeed: number;
  tokens: number;
  forwards: number;
  seconds: number;
  tokensPerForward: number | null;
  tokensPerSecond: number | null;
  settings: Record<string, unknown>;
}

export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('spread: no values');
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const ss = values.reduce((a, v) => a + (v - mean) * (v - mean), 0);
  const std = values.length > 1 ? Math.sqrt(ss / (values.length - 1)) : 0;
  return { mean, std, values: [...values] };
}

/** Folds the runs of one measure (one per seed) into its summary. */
export function summarize(runs: readonly MeasureRun[], seeds: readonly number[]): MeasureSummary {
  if (runs.length === 0) throw new Error('summarize: no runs');
  if (runs.length !== seeds.length) throw new Error(`summarize: ${runs.length} runs for ${seeds.length} seeds`);
  const names = Object.keys(runs[0].scores);
  const scores: Record<string, Spread> = {};
  for (const n of names) scores[n] = spread(runs.map((r) => r.scores[n]));
  const tokens = runs.reduce((a, r) => a + r.tokens, 0);
  const forwards = runs.reduce((a, r) => a + r.forwards, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  return {
    measure: runs[0].measure,
    seeds: [...seeds],
    scores,
    samplesPerSeed: runs[0].samples,
    tokens,
    forwards,
    seconds,
    tokensPerForward: forwards > 0 ? tokens / forwards : null,
    tokensPerSecond: seconds > 0 && tokens > 0 ? tokens / seconds : null,
    settings: runs[0].settings,
  };
}

/** Seconds since t0 (from performance.now()). */
export const secondsSince = (t0: number): number => (performance.now() - t0) / 1000;

export function checkCount(name: string, v: number, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min}, got ${v}`);
  return v;
}
