// Sharing the machine's cores between the model and the sandbox. Generation and the test runs overlap
// (the runner tests sample i while it generates sample i + 1); a model using every core while sandbox
// workers also run oversubscribes the CPU, and a multi-threaded forward then waits on its slowest
// thread: on 2 cores, generation with the default threads beside two sandbox workers ran ~10x slower
// than with one thread. Test programs are short and mostly wait, so they get few cores.

export interface CoreShare {
  /** Compute threads of the generator's backend. */
  threads: number;
  /** Programs run at once. */
  concurrency: number;
}

/**
 * Threads and sandbox workers that together use `cores` cores: given values are kept; otherwise one
 * sandbox worker per 4 cores (at least one) and the rest for the model (at least one thread).
 */
export function shareCores(cores: number, given: Partial<CoreShare> = {}): CoreShare {
  if (!Number.isInteger(cores) || cores < 1)
    throw new Error(`shareCores: cores must be a positive integer, got ${cores}`);
  const concurrency =
    given.concurrency ??
    (given.threads !== undefined ? Math.max(1, cores - given.threads) : Math.max(1, Math.floor(cores / 4)));
  const threads = given.threads ?? Math.max(1, cores - concurrency);
  return { threads, concurrency };
}
