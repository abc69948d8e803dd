/**
 * A fixed number of slots running async jobs; each job learns its slot index (the sandbox gives each
 * slot its own user id, so a job's leftovers can be killed without touching another slot's).
 */
export class Pool {
  private free: number[];
  private waiting: Array<(slot: number) => void> = [];
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`Pool: size must be a positive integer, got ${size}`);
    this.free = Array.from({ length: size }, (_, i) => size - 1 - i);
  }
  async run<T>(job: (slot: number) => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    try {
      return await job(slot);
    } finally {
      this.release(slot);
    }
  }
  /** Resolves once a slot is free, without taking it: lets a producer apply back-pressure. */
  async idle(): Promise<void> {
    if (this.free.length > 0) return;
    const slot = await this.acquire();
    this.release(slot);
  }
  private acquire(): Promise<number> {
    const slot = this.free.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  private release(slot: number): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else this.free.push(slot);
  }
}
