import type { Rng } from './rng';
import { checkReal } from './validate';

// Noise schedules of the mask (absorbing-state) process, docs/techniques.md §1.1–1.3 and §2.3.
// Each schedule gives the masking probability p_mask(t) and the per-masked-token ELBO weight w(t):
//   linear    (LLaDA)            p = (1−ε)·t + ε            w = 1/p          (GUIDELINES.md forward_process)
//   cosine                       γ = 1 − cos(πt/2), p = (1−ε)·γ + ε,  w = γ'(t)/p  (= γ'/γ when ε = 0)
//   loglinear (MDLM LogLinear)   p = (1−ε)·t                w = 1/t          (σ = −log(1−(1−ε)t), w = σ'/(e^σ−1))
//   clipped [β, ω] (BD3-LM)      t ~ U[β, ω], p = t          w = 1/t, or 1 when β > 0.5 (bd3lms loss_scale = −1)
// t is drawn in (0, 1] for the unclipped schedules (1 − u with u in [0,1)), so w stays finite.

export type ScheduleName = 'linear' | 'cosine' | 'loglinear';
export type ScheduleSpec = ScheduleName | { clipped: [number, number] };

export interface NoiseSchedule {
  readonly name: string;
  /** t = lo + (hi − lo)·(1 − u) for u in [0, 1). */
  readonly tLow: number;
  readonly tHigh: number;
  /** BD3-LM window [β, ω] on the realised masked fraction; the mask is resampled outside it. */
  readonly window: [number, number] | null;
  pMask(t: number): number;
  weight(t: number): number;
}

export function noiseSchedule(spec: ScheduleSpec = 'linear', eps = 1e-3): NoiseSchedule {
  checkReal('eps', eps, 0, 1);
  if (eps >= 1) throw new RangeError(`eps must be < 1, got ${eps}`);
  if (spec === 'linear') {
    return {
      name: `linear(eps=${eps})`,
      tLow: 0,
      tHigh: 1,
      window: null,
      pMask: (t) => (1 - eps) * t + eps,
      weight: (t) => 1 / ((1 - eps) * t + eps),
    };
  }
  if (spec === 'cosine') {
    const h = Math.PI / 2;
    return {
      name: `cosine(eps=${eps})`,
      tLow: 0,
      tHigh: 1,
      window: null,
      pMask: (t) => (1 - eps) * (1 - Math.cos(h * t)) + eps,
      weight: (t) => (h * Math.sin(h * t)) / ((1 - eps) * (1 - Math.cos(h * t)) + eps),
    };
  }
  if (spec === 'loglinear') {
    return {
      name: `loglinear(eps=${eps})`,
      tLow: 0,
      tHigh: 1,
      window: null,
      pMask: (t) => (1 - eps) * t,
      weight: (t) => 1 / t,
    };
  }
  if (spec !== null && typeof spec === 'object' && Array.isArray((spec as { clipped?: unknown }).clipped)) {
    const [b, w] = spec.clipped;
    checkReal('schedule.clipped[0] (beta)', b, 0, 1);
    checkReal('schedule.clipped[1] (omega)', w, 0, 1);
    if (b <= 0) throw new RangeError(`schedule.clipped[0] (beta) must be > 0 so that 1/t is finite, got ${b}`);
    if (b > w) throw new RangeError(`schedule.clipped must satisfy beta <= omega, got [${b}, ${w}]`);
    const unit = b > 0.5;
    return {
      name: `clipped[${b}, ${w}]${unit ? ' (weight 1)' : ''}`,
      tLow: b,
      tHigh: w,
      window: [b, w],
      pMask: (t) => t,
      weight: unit ? () => 1 : (t) => 1 / t,
    };
  }
  throw new RangeError(
    `schedule must be 'linear', 'cosine', 'loglinear' or { clipped: [beta, omega] }, got ${JSON.stringify(spec)}`,
  );
}

/**
 * n draws of t. Antithetic (low-discrepancy, bd3lms `_sample_t`): u_j = (u'_j/n + j/n) mod 1, one draw in
 * each stratum [j/n, (j+1)/n), so a batch covers the noise levels evenly. Then t = lo + (hi − lo)·(1 − u).
 */
export function sampleT(n: number, rng: Rng, s: NoiseSchedule, antithetic: boolean): Float64Array {
  const t = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let u = rng.next();
    if (antithetic) u = (u / n + j / n) % 1;
    t[j] = s.tLow + (s.tHigh - s.tLow) * (1 - u);
  }
  return t;
}
