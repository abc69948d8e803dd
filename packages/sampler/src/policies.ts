// Commit policies: which still-masked positions of the current block receive their predicted
// token at a decoding step. Pure functions over arrays of confidences (higher = surer), so they
// can be tested without a model. `active[i]` is true where position i is still [MASK].
// Ties are broken by the lower position, so every policy is deterministic.

export type PolicyName = 'threshold' | 'fixed' | 'factor';

/** Active positions sorted by confidence (descending), ties by position (ascending). */
export function rankActive(conf: ArrayLike<number>, active: ArrayLike<boolean | number>): number[] {
  if (conf.length !== active.length) {
    throw new RangeError(`rankActive: conf has ${conf.length} entries but active has ${active.length}`);
  }
  const idx: number[] = [];
  for (let i = 0; i < conf.length; i++) if (active[i]) idx.push(i);
  return idx.sort((a, b) => conf[b] - conf[a] || a - b);
}

/**
 * LLaDA's linear schedule: M masked positions over S steps commit
 * k_t = floor(M/S) + [t < M mod S] at step t (the remainder goes to the first steps).
 */
export function fixedSchedule(masked: number, steps: number): number[] {
  if (!Number.isInteger(masked) || masked < 0)
    throw new RangeError(`fixedSchedule: masked must be >= 0, got ${masked}`);
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`fixedSchedule: steps must be >= 1, got ${steps}`);
  const base = Math.floor(masked / steps);
  const rem = masked % steps;
  return Array.from({ length: steps }, (_, t) => base + (t < rem ? 1 : 0));
}

/** The k most confident active positions (fewer if fewer are active). */
export function selectTopK(conf: ArrayLike<number>, active: ArrayLike<boolean | number>, k: number): number[] {
  return rankActive(conf, active).slice(0, Math.max(0, k));
}

/**
 * Fast-dLLM's threshold rule: every active position with confidence >= tau, and always the most
 * confident one, so each step makes progress even when nothing reaches tau.
 */
export function selectThreshold(conf: ArrayLike<number>, active: ArrayLike<boolean | number>, tau: number): number[] {
  const ranked = rankActive(conf, active);
  if (ranked.length === 0) return [];
  let n = 1;
  while (n < ranked.length && conf[ranked[n]] >= tau) n++;
  return ranked.slice(0, n);
}

/**
 * Fast-dLLM's factor rule (Alg. 1): with confidences sorted c_(1) >= c_(2) >= ..., commit the largest
 * n with (n+1)·(1 − c_(n)) < f, and at least one. (n+1)(1 − c_(n)) grows with n, so the committed set
 * is a prefix of the ranking. Theorem 1: (n+1)ε <= 1 keeps the product-of-marginals argmax exact.
 */
export function selectFactor(conf: ArrayLike<number>, active: ArrayLike<boolean | number>, f: number): number[] {
  const ranked = rankActive(conf, active);
  if (ranked.length === 0) return [];
  let n = 0;
  while (n < ranked.length && (n + 2) * (1 - conf[ranked[n]]) < f) n++;
  return ranked.slice(0, Math.max(1, n));
}

/**
 * LLaDA2.1 token-to-token editing: a committed position whose predicted token differs from the one
 * it holds and whose probability exceeds the edit threshold is rewritten. `editable[i]` is true only
 * for committed, non-prompt positions (the caller decides which).
 */
export function selectEdits(
  tok: ArrayLike<number>,
  prob: ArrayLike<number>,
  current: ArrayLike<number>,
  editable: ArrayLike<boolean | number>,
  threshold: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < current.length; i++) {
    if (editable[i] && tok[i] !== current[i] && prob[i] > threshold) out.push(i);
  }
  return out;
}

export interface PolicyParams {
  policy: PolicyName;
  /** threshold rule: commit confidence >= tau (default 0.9). */
  threshold: number;
  /** factor rule: f (default 1). */
  factor: number;
  /** fixed rule: steps per block (default: one token per step). */
  steps?: number;
}

/** A policy with its per-block state (the fixed schedule is laid out when a block starts). */
export class CommitPolicy {
  private schedule: number[] = [];

  constructor(readonly params: PolicyParams) {}

  /** Called when a block starts with `masked` positions to fill. */
  begin(masked: number): void {
    if (this.params.policy === 'fixed') {
      // More steps than masks would only spend forwards committing nothing: clamp to one per step.
      const steps = Math.max(1, Math.min(this.params.steps ?? masked, masked));
      this.schedule = fixedSchedule(masked, steps);
    }
  }

  /** Positions to commit at fill step `step` (0-based within the block). Never empty while any is active. */
  select(conf: ArrayLike<number>, active: ArrayLike<boolean | number>, step: number): number[] {
    switch (this.params.policy) {
      case 'threshold':
        return selectThreshold(conf, active, this.params.threshold);
      case 'factor':
        return selectFactor(conf, active, this.params.factor);
      case 'fixed':
        // Past the schedule (e.g. after edits re-opened nothing) fall back to one per step.
        return selectTopK(conf, active, Math.max(1, this.schedule[step] ?? 1));
    }
  }
}
