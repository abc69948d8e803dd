// Sampler options as the measures use them: validated once, and the settings that belong next to
// every score (block size, policy, threshold, temperature, ...).
import { type SamplerOptions, resolveOptions } from '@seed-diffusion/sampler';

/** The sampler settings recorded with a decoding measure's scores. */
export function samplerSettings(opts: Partial<SamplerOptions>): Record<string, unknown> {
  const o = resolveOptions(opts);
  const s: Record<string, unknown> = {
    mode: o.mode,
    blockSize: o.blockSize,
    policy: o.policy,
    temperature: o.temperature,
    confidence: o.confidence,
  };
  if (o.policy === 'threshold') s.threshold = o.threshold;
  if (o.policy === 'factor') s.factor = o.factor;
  if (o.policy === 'fixed') s.steps = o.steps ?? o.blockSize;
  if (o.temperature > 0) Object.assign(s, { topK: o.topK, topP: o.topP });
  if (o.selfCorrect) Object.assign(s, { selfCorrect: true, editThreshold: o.editThreshold });
  return s;
}

/** A per-sample sampler seed drawn from the measure's Rng (only used when sampling, temperature > 0). */
export function sampleSeed(rng: { int(n: number): number }): number {
  return rng.int(0x7fffffff);
}
