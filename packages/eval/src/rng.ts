/**
 * Small seeded generator for bug planting: splitmix32 over a 32-bit state. Seeded per task from
 * fnv1a("<seed>:<task_id>") so one task's variant does not depend on which other tasks were planted.
 */
export class PlantRng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  static forTask(seed: number, taskId: string): PlantRng {
    return new PlantRng(fnv1a(`${seed}:${taskId}`));
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
