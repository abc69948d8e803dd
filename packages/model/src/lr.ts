// Learning-rate schedule: linear warmup from 0, then cosine decay to minLr at the last step.

export interface LrSchedule {
  lr: number;
  minLr: number;
  warmup: number;
  totalSteps: number;
}

/** LR for 0-based step s. */
export function lrAt(s: number, p: LrSchedule): number {
  if (p.warmup > 0 && s < p.warmup) return (p.lr * (s + 1)) / p.warmup;
  const span = Math.max(1, p.totalSteps - p.warmup - 1);
  const f = Math.min(1, Math.max(0, (s - p.warmup) / span));
  return p.minLr + 0.5 * (p.lr - p.minLr) * (1 + Math.cos(Math.PI * f));
}
